"""The Alembic migrations build exactly the tables the ORM models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hwarang.hub.store.db import Database
from hwarang.hub.store.models import Base


def test_migrated_sqlite_schema_matches_the_models(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_column_missing_from_the_migrations_is_reported(sqlite_db: Database) -> None:
    with sqlite_db.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE tasks DROP COLUMN unit")
    with sqlite_db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "unit")]
