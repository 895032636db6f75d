"""Interoperability with partner systems: CAP 1.2, Cursor-on-Target (XML and TAK protobuf), GeoJSON
(RFC 7946) out, a TAK-compatible streaming server, and external detections in.

Each format module turns domain objects into a partner's own format and back; none holds state.
"""
