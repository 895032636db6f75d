"""What the PostGIS migration adds beside the ORM models, and how to tell whether a database has it.

On PostgreSQL with PostGIS, migration ``0002_postgis`` gives ``incidents`` and ``events`` a
``geom geometry(Point, 4326)`` column *generated* from ``lon``/``lat`` (``STORED``), with a GiST
index. PostgreSQL computes it on every insert and update, so the ORM, the bulk ingest's
executemany and any hand-written SQL keep it in sync without knowing it exists. The ORM models do
not map it: the same models serve SQLite, where the column is absent.
"""

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import base as pg_base
from sqlalchemy.types import UserDefinedType

GEOM_COLUMN = "geom"
SPATIAL_TABLES = ("incidents", "events")
GEOM_INDEXES = frozenset(f"ix_{table}_{GEOM_COLUMN}" for table in SPATIAL_TABLES)
POSTGIS_TABLES = frozenset({"spatial_ref_sys"})

_GEOM_PRESENT = text(
    "SELECT count(*) FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'incidents' AND column_name = :column"
)


def geom_present(connection: Connection) -> bool:
    """True when the current schema's ``incidents`` has the PostGIS ``geom`` column (PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.execute(_GEOM_PRESENT, {"column": GEOM_COLUMN}).scalar_one())


class Geometry(UserDefinedType[Any]):
    """PostGIS ``geometry``, known to SQLAlchemy only so that reflecting ``geom`` does not warn."""

    cache_ok = True

    def __init__(self, *_typmod: Any, **_kw: Any) -> None:
        super().__init__()

    def get_col_spec(self, **_kw: Any) -> str:
        return "geometry"


def register_geometry_reflection() -> None:
    """Let PostgreSQL reflection (Alembic's model comparison) recognise ``geometry`` columns."""
    pg_base.ischema_names.setdefault("geometry", Geometry)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: leave the PostGIS-only objects out of model comparisons."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "column":
        return not (name == GEOM_COLUMN and obj.table.name in SPATIAL_TABLES)
    if type_ == "index":
        return name not in GEOM_INDEXES
    if type_ == "table":
        return name not in POSTGIS_TABLES
    return True
