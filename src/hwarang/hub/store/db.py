"""Database connection: one SQLAlchemy engine for SQLite (embedded) or PostgreSQL (site, national)."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from hwarang.hub.errors import StoreError, StoreUnavailableError
from hwarang.hub.store.postgis import geom_present

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 15.0
PG_CONNECT_TIMEOUT_S = 5

TRANSIENT_ERRORS = (OperationalError, InterfaceError, DisconnectionError)
"""SQLAlchemy errors that say the store is unavailable, not that the data is bad.

psycopg maps connection failures, ``admin_shutdown``, ``disk_full`` and ``too_many_connections``
to OperationalError; sqlite3 raises it for ``database or disk is full``, ``database is locked``
and an unopenable file.
"""

_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def mask_url(url: str | URL) -> str:
    """``url`` with any password replaced by ``***`` (safe for logs and error messages)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"invalid database URL {mask_url(url)!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database URL {mask_url(parsed)!r}: use sqlite:///<file> or postgresql://..."
        )
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver so SQLAlchemy's transactions are real ones.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front so a read-then-write transaction never fails
        # with SQLITE_BUSY half-way; readers stay DEFERRED and run concurrently under WAL.
        mode = "IMMEDIATE" if conn.get_execution_options().get("hwarang_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """Engine and sessions for ``url`` (``sqlite:///path`` or ``postgresql[+psycopg]://...``).

    Creating a Database opens no connection; the first session (or :meth:`check`) does.
    Every SQLAlchemy failure leaving :meth:`session` is raised as :class:`StoreError`.
    """

    def __init__(self, url: str) -> None:
        self._url = _parse_url(url)
        self.masked_url = mask_url(self._url)
        try:
            if self.dialect == "sqlite":
                self.engine = _sqlite_engine(self._url)
            else:
                self.engine = create_engine(
                    self._url,
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
                )
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open database {self.masked_url!r}: {exc}") from exc
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(hwarang_write=True), expire_on_commit=False)
        self._postgis: bool | None = None

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def postgis(self) -> bool:
        """True when spatial queries run in PostGIS: PostgreSQL whose tables have ``geom`` (0002_postgis).

        Checked once per migration (first use), so a failure to reach the database raises StoreError.
        """
        if self._postgis is None:
            if self.dialect != "postgresql":
                self._postgis = False
            else:
                with self.session() as session:
                    self._postgis = geom_present(session.connection())
        return self._postgis

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.

        ``write=True`` takes SQLite's write lock at BEGIN (no effect on PostgreSQL).
        ``IntegrityError`` passes through unchanged (a conflict the caller decides about);
        a lost or refused connection, a database that is down, full or locked becomes
        :class:`StoreUnavailableError` (transient: retry later); every other SQLAlchemy error
        becomes :class:`StoreError` (the data or the statement is at fault).
        """
        factory = self._writer if write else self._reader
        try:
            with factory() as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except TRANSIENT_ERRORS as exc:
            raise StoreUnavailableError(f"database unavailable ({self.masked_url!r}): {_short(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"database error on {self.masked_url!r}: {_short(exc)}") from exc

    def check(self) -> None:
        """Open a connection and run ``SELECT 1``; StoreError when the database is unreachable."""
        with self.session() as session:
            session.execute(select(1))

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (a no-op when it is already there)."""
        config = alembic_config()
        try:
            with self.engine.connect() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            self._postgis = None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate database {self.masked_url!r}: {_short(exc)}") from exc
        logger.info("database %s migrated to head", self.masked_url)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config() -> Config:
    """An Alembic configuration built in code, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def _short(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
