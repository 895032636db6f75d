"""Exception bases of the interop formats."""


class InteropError(Exception):
    """Base of every interop failure."""


class CapError(InteropError):
    """A CAP 1.2 message cannot be built, or one given is not valid CAP 1.2 (says what and where)."""


class CotError(InteropError):
    """An incident cannot be expressed as Cursor-on-Target (e.g. it has no position yet)."""
