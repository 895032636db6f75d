"""Persistence of the hub: SQLAlchemy models, the Database wrapper and Alembic migrations."""

from hwarang.hub.store.db import Database, mask_url

__all__ = ["Database", "mask_url"]
