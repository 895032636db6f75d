"""Hwarang: integrated defense information sharing (edge analytics, event bus, situation-room hub)."""

__version__ = "0.1.0"
