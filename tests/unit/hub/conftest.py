"""Hub fixtures (shared with the other hub test folder through ``hub_support``)."""

from tests.hub_support import engine_db, engine_service, engine_url, evidence, service, sqlite_db

__all__ = ["engine_db", "engine_service", "engine_url", "evidence", "service", "sqlite_db"]
