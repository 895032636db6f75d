"""Hwarang exercises: scenario files, injection, measurement and evaluation (see the exercise issue).

Nothing is implemented here yet; the package exists so the layout of DESIGN.md is in place.
"""
