"""PostGIS geometry for incidents and events (PostgreSQL with PostGIS only; a no-op elsewhere).

``geom geometry(Point, 4326)`` is a stored generated column computed from ``lon``/``lat``, so
every writer keeps it in sync; a GiST index serves ``&&``, ``ST_Within`` and the bounding-box
prefilter of ``ST_DWithin``. Adding the column rewrites each table once (existing rows get their
geometry). When the server lacks PostGIS, or the extension cannot be created (it needs a
superuser or a trusted-extension grant), the revision logs why and changes nothing; to add the
geometry later, install PostGIS and run ``alembic downgrade 0001_initial`` then ``upgrade head``.

Revision ID: 0002_postgis
Revises: 0001_initial
Create Date: 2025-02-01 00:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0002_postgis"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("hwarang.hub.store.migrations.0002_postgis")

_TABLES = ("incidents", "events")


def _postgis_ready(connection: sa.Connection) -> str | None:
    """None when the ``geometry`` type is usable; otherwise why not."""
    available = connection.execute(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
    ).scalar_one()
    if not available:
        return "the PostGIS extension is not installed on the server (Debian: postgresql-15-postgis-3)"
    installed = connection.execute(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'"))
    if not installed.scalar_one():
        savepoint = connection.begin_nested()
        try:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except DBAPIError as exc:
            savepoint.rollback()
            first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            return f"CREATE EXTENSION postgis failed ({first_line})"
        savepoint.commit()
    if connection.execute(sa.text("SELECT to_regtype('geometry')")).scalar_one() is None:
        return "the postgis extension is installed in a schema that is not on the search_path"
    return None


def upgrade() -> None:
    """Add ``geom`` and its GiST index to incidents and events when PostGIS is available."""
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        logger.info("0002_postgis: %s database, no PostGIS geometry", connection.dialect.name)
        return
    problem = _postgis_ready(connection)
    if problem is not None:
        logger.warning(
            "0002_postgis: no geometry columns, spatial queries use the portable path: %s", problem
        )
        return
    for table in _TABLES:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")
    logger.info("0002_postgis: geom columns and GiST indexes added to %s", ", ".join(_TABLES))


def downgrade() -> None:
    """Drop the geometry columns (and with them their indexes); the extension stays."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS geom")
