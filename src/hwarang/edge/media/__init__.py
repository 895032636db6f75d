"""Edge media: event snapshots (clips and privacy masking come later)."""

from hwarang.edge.media.snapshots import render_snapshot

__all__ = ["render_snapshot"]
