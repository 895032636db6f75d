"""Alembic environment: runs on the connection handed over by ``Database.migrate``.

For command-line use (``alembic -x url=... upgrade head``) it opens its own connection.
"""

from alembic import context
from sqlalchemy import Connection, create_engine

from hwarang.hub.store.models import Base
from hwarang.hub.store.postgis import include_object, register_geometry_reflection

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    register_geometry_reflection()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the shared connection, or a new one from ``-x url=...``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=<database url> or set sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
