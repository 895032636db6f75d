"""Base class for every model that crosses a process, bus or HTTP boundary."""

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class DomainModel(BaseModel):
    """Immutable, strictly validated model carrying a ``schema_version``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION


class ValueModel(BaseModel):
    """Immutable value nested inside a versioned model (a box, a position, a reference)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
