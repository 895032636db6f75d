"""Edge media: event snapshots, event clips (clips.py) and privacy masking of faces."""

from hwarang.edge.media.privacy import FaceMasker, PrivacyConfig, masked_snapshot_renderer
from hwarang.edge.media.snapshots import render_snapshot

__all__ = ["FaceMasker", "PrivacyConfig", "masked_snapshot_renderer", "render_snapshot"]
