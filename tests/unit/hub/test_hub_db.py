"""Database: URL handling, clear errors with masked passwords, SQLite pragmas and migrations."""

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from hwarang.hub.errors import StoreError
from hwarang.hub.store.db import Database, mask_url

EXPECTED_TABLES = {"alembic_version", "audit_log", "cameras", "events", "hub_state", "incidents", "users"}


def test_unreachable_postgres_raises_store_error_with_masked_password() -> None:
    db = Database("postgresql://hwarang:s3cr3t-pw@127.0.0.1:1/hub")
    with pytest.raises(StoreError) as info:
        db.check()
    message = str(info.value)
    assert "s3cr3t-pw" not in message
    assert "***" in message
    assert "127.0.0.1:1" in message
    with pytest.raises(StoreError) as info2:
        db.migrate()
    assert "s3cr3t-pw" not in str(info2.value)
    assert "cannot migrate" in str(info2.value)


def test_plain_postgresql_url_uses_psycopg3() -> None:
    db = Database("postgresql://u@127.0.0.1:1/x")
    assert db.engine.url.drivername == "postgresql+psycopg"
    assert db.dialect == "postgresql"


@pytest.mark.parametrize("url", ["not a url", "mysql://u:topsecret@h/db", "://u:topsecret@h/db"])
def test_bad_urls_are_refused_without_leaking_password(url: str) -> None:
    with pytest.raises(StoreError) as info:
        Database(url)
    assert "topsecret" not in str(info.value)
    assert "database URL" in str(info.value)


def test_mask_url_on_unparsable_text() -> None:
    assert mask_url("weird://me:pa:ss@host") == "weird://me:***@host"


def test_sqlite_migrate_creates_tables_and_sets_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'hub.sqlite3'}")
    db.migrate()
    assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
    with db.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    db.close()


def test_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    db.migrate()
    with db.session(write=True) as session:
        session.execute(text("UPDATE hub_state SET last_seq = 7"))
    db.migrate()
    with db.session() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            "0007_camera_configs"
        ]
        assert session.execute(text("SELECT id, last_seq FROM hub_state")).all() == [(1, 7)]
    db.close()


def test_sqlite_session_errors_become_store_errors(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    with pytest.raises(StoreError, match="no such table"), db.session() as session:
        session.execute(text("SELECT * FROM incidents"))
    db.close()
