"""Exception base of the hub."""


class HubError(Exception):
    """Base of every hub failure."""


class StoreError(HubError):
    """The database cannot be reached, migrated or written."""


class StoreUnavailableError(StoreError):
    """The store cannot take writes for now (connection lost, database down, disk full, locked).

    Transient: nothing is wrong with the data; the same write succeeds once the store is back, so
    callers retry (with back-off) instead of giving the data up.
    """


class IngestError(HubError):
    """A message could not be ingested (invalid, or its evidence is inconsistent)."""


class ConflictError(HubError):
    """The change conflicts with what is stored (e.g. a user name that already exists)."""


class NotFoundError(HubError):
    """The object asked for does not exist (HTTP 404)."""
