"""Incidents near a point or inside a polygon: in PostGIS when the store has it, portably otherwise.

Both paths give the same answer, newest first (by ``seq``), at most ``limit``:

- **near**: great-circle distance on a sphere of the mean earth radius, ``distance <= radius_m``.
  PostGIS: the GiST-indexed ``geom && box`` then ``ST_DWithin(geom::geography, point, r, false)``
  (``false``: PostGIS's sphere, the radius :func:`~hwarang.geo.geodesy.haversine_m` uses).
  Portable: the same box on ``lat``/``lon`` in SQL, then ``haversine_m`` in Python.
- **within**: the point strictly inside the polygon (a point on the boundary is outside), planar
  in lon/lat degrees. PostGIS: ``ST_Within(geom, polygon)``; portable: the polygon's bounding box
  in SQL, then shapely's ``contains``.

Incidents without a position are never returned.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity
from sqlalchemy import (
    Boolean,
    ColumnClause,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from hwarang.domain import GeoPoint
from hwarang.geo.geodesy import EARTH_RADIUS_M, haversine_m
from hwarang.hub.store.models import IncidentRow

SRID = 4326
_BOX_MARGIN = 0.01
_BOX_EPS_DEG = 1e-7
_SCAN_BATCH = 500
_GEOM: ColumnClause[Any] = literal_column("incidents.geom")
_GEOG: ColumnClause[Any] = literal_column("incidents.geom::geography")


@dataclass(frozen=True, slots=True)
class LonLatBox:
    """A longitude/latitude rectangle in degrees (never crossing the antimeridian)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def circle_box(center: GeoPoint, radius_m: float) -> LonLatBox:
    """A box holding every point within ``radius_m`` of ``center``, with a margin of about 1 %."""
    if not math.isfinite(radius_m) or radius_m < 0.0:
        raise ValueError(f"radius must be a finite number of metres >= 0, got {radius_m!r}")
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * (1.0 + _BOX_MARGIN) + _BOX_EPS_DEG
    min_lat, max_lat = max(-90.0, center.lat - dlat), min(90.0, center.lat + dlat)
    cos_extreme = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    dlon = dlat / cos_extreme if cos_extreme > 1e-9 else 360.0
    if center.lon - dlon < -180.0 or center.lon + dlon > 180.0:
        return LonLatBox(-180.0, min_lat, 180.0, max_lat)
    return LonLatBox(center.lon - dlon, min_lat, center.lon + dlon, max_lat)


def lonlat_polygon(points: Sequence[tuple[float, float]]) -> Polygon:
    """A valid polygon from ``(lon, lat)`` vertices (the ring closes itself); ValueError otherwise."""
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 (lon, lat) vertices, got {len(points)}")
    for lon, lat in points:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError(f"vertex ({lon!r}, {lat!r}) is not a (lon, lat) position in degrees")
    polygon = Polygon(points)
    if not polygon.is_valid:
        raise ValueError(f"invalid polygon: {explain_validity(polygon)}")
    return polygon


def near_rows(
    session: Session,
    center: GeoPoint,
    radius_m: float,
    *,
    postgis: bool,
    limit: int,
    after_seq: int = 0,
    include_exercise: bool = False,
) -> list[IncidentRow]:
    """Incident rows within ``radius_m`` metres of ``center``, newest first."""
    box = circle_box(center, radius_m)
    stmt = _newest_first(after_seq, include_exercise)
    if postgis:
        point = func.geography(func.ST_SetSRID(func.ST_MakePoint(center.lon, center.lat), SRID))
        dwithin = func.ST_DWithin(_GEOG, point, bindparam("radius_m", radius_m), False, type_=Boolean)
        return list(session.scalars(stmt.where(_geom_in(box), dwithin).limit(limit)))

    def inside(row: IncidentRow) -> bool:
        return haversine_m(center, _position(row)) <= radius_m

    return _scan(session, stmt.where(_latlon_in(box)), inside, limit)


def within_rows(
    session: Session,
    polygon: Polygon,
    *,
    postgis: bool,
    limit: int,
    after_seq: int = 0,
    include_exercise: bool = False,
) -> list[IncidentRow]:
    """Incident rows strictly inside ``polygon`` (lon/lat degrees), newest first."""
    stmt = _newest_first(after_seq, include_exercise)
    if postgis:
        shape = func.ST_GeomFromWKB(bindparam("polygon_wkb", shapely.to_wkb(polygon)), SRID)
        return list(session.scalars(stmt.where(func.ST_Within(_GEOM, shape, type_=Boolean)).limit(limit)))
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    box = LonLatBox(min_lon, min_lat, max_lon, max_lat)

    def inside(row: IncidentRow) -> bool:
        position = _position(row)
        return bool(polygon.contains(Point(position.lon, position.lat)))

    return _scan(session, stmt.where(_latlon_in(box)), inside, limit)


def _newest_first(after_seq: int, include_exercise: bool) -> Select[IncidentRow]:
    stmt = select(IncidentRow).where(
        IncidentRow.seq > after_seq, IncidentRow.lat.is_not(None), IncidentRow.lon.is_not(None)
    )
    if not include_exercise:
        stmt = stmt.where(IncidentRow.exercise.is_(False))
    return stmt.order_by(IncidentRow.seq.desc())


def _geom_in(box: LonLatBox) -> ColumnElement[bool]:
    envelope = func.ST_MakeEnvelope(box.min_lon, box.min_lat, box.max_lon, box.max_lat, SRID)
    return _GEOM.op("&&", return_type=Boolean)(envelope)


def _latlon_in(box: LonLatBox) -> ColumnElement[bool]:
    return and_(
        IncidentRow.lat.between(box.min_lat, box.max_lat),
        IncidentRow.lon.between(box.min_lon, box.max_lon),
    )


def _position(row: IncidentRow) -> GeoPoint:
    if row.lat is None or row.lon is None:
        raise ValueError(f"incident {row.id} has no position")
    return GeoPoint(lat=row.lat, lon=row.lon)


def _scan(
    session: Session, stmt: Select[IncidentRow], keep: Callable[[IncidentRow], bool], limit: int
) -> list[IncidentRow]:
    """The first ``limit`` rows of ``stmt`` that ``keep`` accepts, reading in batches."""
    kept: list[IncidentRow] = []
    result = session.scalars(stmt.execution_options(yield_per=_SCAN_BATCH))
    try:
        for row in result:
            if keep(row):
                kept.append(row)
                if len(kept) == limit:
                    break
    finally:
        result.close()
    return kept
