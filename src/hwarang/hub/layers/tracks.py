"""An incident's track on the map: its events' positions as GeoJSON, one line per tracked object.

A track is one ``(camera_id, track_id)`` of the edge tracker. Each track with two or more
positions becomes a LineString (GeoJSON needs two); every positioned event is also a Point.
Events without a ground position (no calibration) are left out.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow

COORDINATE_DECIMALS = 6
"""Decimals kept in track coordinates (about 0.1 m)."""


@dataclass(frozen=True, slots=True)
class _Fix:
    event_id: uuid.UUID
    camera_id: str
    track_id: int
    time: datetime
    object_class: str
    lon: float
    lat: float


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _position(fix: _Fix) -> list[float]:
    return [round(fix.lon, COORDINATE_DECIMALS), round(fix.lat, COORDINATE_DECIMALS)]


def _fixes(database: Database, incident_id: uuid.UUID) -> list[_Fix]:
    columns = (
        EventRow.id,
        EventRow.camera_id,
        EventRow.track_id,
        EventRow.occurred_at,
        EventRow.object_class,
        EventRow.lon,
        EventRow.lat,
    )
    stmt = (
        select(*columns)
        .where(EventRow.incident_id == incident_id, EventRow.lat.is_not(None), EventRow.lon.is_not(None))
        .order_by(EventRow.occurred_at, EventRow.id)
    )
    with database.session() as session:
        rows = list(session.execute(stmt))
    return [
        _Fix(event_id, camera_id, track_id, time, object_class, lon, lat)
        for event_id, camera_id, track_id, time, object_class, lon, lat in rows
        if lon is not None and lat is not None
    ]


def track_lines(fixes: list[_Fix]) -> list[dict[str, Any]]:
    """One LineString feature per track with at least two positions, in first-seen order."""
    tracks: dict[tuple[str, int], list[_Fix]] = {}
    for fix in fixes:
        tracks.setdefault((fix.camera_id, fix.track_id), []).append(fix)
    lines = []
    for (camera_id, track_id), points in tracks.items():
        if len(points) < 2:
            continue
        lines.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [_position(p) for p in points]},
                "properties": {
                    "track_key": f"{camera_id}:{track_id}",
                    "camera_id": camera_id,
                    "points": len(points),
                    "first_seen": _iso(points[0].time),
                    "last_seen": _iso(points[-1].time),
                },
            }
        )
    return lines


def incident_track(database: Database, incident_id: uuid.UUID) -> dict[str, Any]:
    """The incident's tracks (LineStrings) and event positions (Points); no features without positions."""
    fixes = _fixes(database, incident_id)
    points = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": _position(fix)},
            "properties": {
                "event_id": str(fix.event_id),
                "time": _iso(fix.time),
                "class": fix.object_class,
                "track_key": f"{fix.camera_id}:{fix.track_id}",
            },
        }
        for fix in fixes
    ]
    return {"type": "FeatureCollection", "features": [*track_lines(fixes), *points]}
