"""Interoperability with partner systems: GeoJSON (RFC 7946) out, and later CAP 1.2, CoT, importers.

Each module turns domain objects into a partner's own format and back; none holds state.
"""
