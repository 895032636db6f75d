"""Exception bases of the edge stages."""


class EdgeError(Exception):
    """Base of every edge failure."""


class SourceError(EdgeError):
    """A camera source cannot be opened or read (missing file, unreachable stream, corrupt data)."""


class AnalyticsError(EdgeError):
    """An analytics stage is misconfigured or failed (bad polygon, missing model, unknown detector)."""


class MediaError(EdgeError):
    """A snapshot or clip cannot be encoded, stored or read."""
