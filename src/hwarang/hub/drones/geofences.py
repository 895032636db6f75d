"""Geofence watch: a drone entering a protected site raises a hub event; leaving it is recorded.

:class:`GeofenceWatch` remembers which sites each track is inside. A report inside a site (polygon
and altitude band) that the track was not inside yields one ``enter`` crossing; it stays inside,
silently, until a report outside the site yields ``leave``. Friendly units never cross (they are
ours); a report without a position never reaches here.

For an ``enter``, :func:`geofence_event` builds the hub event (rule ``zone_intrusion``, class
``aircraft``, rule name ``geofence:<site>``, at the drone's position, in the site's local
government, on the nearest camera) and :func:`geofence_alert` the alert that carries what the
event has no fields for: the operator's position, the nearest cameras and a description.
"""

import hashlib
import math
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hwarang.domain import BoundingBox, DroneAlert, DroneReport, Event, EventMessage, ObjectClass, RuleKind
from hwarang.domain.drone import CameraSuggestion, DroneAlertKind
from hwarang.geo.geodesy import EARTH_RADIUS_M, haversine_m
from hwarang.geo.geofences import GeofenceSet, GeofenceSite

__all__ = [
    "GEOFENCE_RULE_PREFIX",
    "CameraSpot",
    "GeofenceCrossing",
    "GeofenceWatch",
    "geofence_alert",
    "geofence_event",
    "nearest_cameras",
]

GEOFENCE_RULE_PREFIX = "geofence:"
_NAMESPACE = uuid.UUID("0b5b7c1e-9d0e-5e4f-8a6b-64726f6e6573")


@dataclass(frozen=True, slots=True)
class GeofenceCrossing:
    """A track entering or leaving a site, with the report that did it."""

    kind: Literal["enter", "leave"]
    site: GeofenceSite
    report: DroneReport


@dataclass(frozen=True, slots=True)
class CameraSpot:
    """What the camera suggestion needs of a camera (read from the cameras table)."""

    camera_id: str
    name: str
    center_id: str
    lat: float
    lon: float


class GeofenceWatch:
    """Which sites each track is inside; turns reports into crossings (thread-safe)."""

    def __init__(self, fences: GeofenceSet) -> None:
        self.fences = fences
        self._inside: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def observe(self, report: DroneReport) -> list[GeofenceCrossing]:
        """Crossings caused by ``report``: ``enter`` for each new site, ``leave`` for each one left."""
        if report.friendly:
            return []
        sites = self.fences.containing(report.lat, report.lon, report.alt_m, report.height_m)
        now_inside = {site.id for site in sites}
        with self._lock:
            before = self._inside.get(report.key, set())
            if now_inside:
                self._inside[report.key] = now_inside
            else:
                self._inside.pop(report.key, None)
        crossings = [GeofenceCrossing("enter", site, report) for site in sites if site.id not in before]
        for site_id in sorted(before - now_inside):
            site = self.fences.get(site_id)
            if site is not None:
                crossings.append(GeofenceCrossing("leave", site, report))
        return crossings

    def inside(self, key: str) -> list[str]:
        """Ids of the sites the track is inside now."""
        with self._lock:
            return sorted(self._inside.get(key, ()))

    def restore(self, key: str, site_ids: Iterable[str]) -> None:
        """Set the sites a track is inside (after a restart, so it does not enter again)."""
        known = {site_id for site_id in site_ids if self.fences.get(site_id) is not None}
        with self._lock:
            if known:
                self._inside[key] = known
            else:
                self._inside.pop(key, None)


def nearest_cameras(
    cameras: Sequence[CameraSpot], lat: float, lon: float, k: int
) -> list[tuple[CameraSpot, float]]:
    """The ``k`` cameras nearest to ``lat``/``lon`` with their great-circle distance, nearest first."""
    if not cameras or k < 1:
        return []
    lats = np.radians(np.fromiter((c.lat for c in cameras), dtype=np.float64, count=len(cameras)))
    lons = np.radians(np.fromiter((c.lon for c in cameras), dtype=np.float64, count=len(cameras)))
    lat0, lon0 = math.radians(lat), math.radians(lon)
    h = np.sin((lats - lat0) / 2.0) ** 2 + math.cos(lat0) * np.cos(lats) * np.sin((lons - lon0) / 2.0) ** 2
    distances = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    order = np.argsort(distances, kind="stable")[:k]
    return [(cameras[int(i)], float(distances[int(i)])) for i in order]


def track_number(key: str) -> int:
    """A stable non-negative 63-bit tracker id for a drone track key."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") >> 1


def _event_id(crossing: GeofenceCrossing) -> uuid.UUID:
    report = crossing.report
    return uuid.uuid5(
        _NAMESPACE, f"{crossing.kind}|{crossing.site.id}|{report.key}|{report.time.isoformat()}"
    )


def geofence_event(crossing: GeofenceCrossing, nearest: CameraSpot | None) -> EventMessage:
    """The hub event of a drone entering a site (see the module docstring)."""
    site, report = crossing.site, crossing.report
    return EventMessage(
        event=Event(
            id=_event_id(crossing),
            camera_id=nearest.camera_id if nearest is not None else f"geofence-{site.id}",
            center_id=site.center_id or (nearest.center_id if nearest is not None else f"geofence-{site.id}"),
            sido_code=site.sido_code,
            sigungu_code=site.sigungu_code,
            occurred_at=report.time,
            object_class=ObjectClass.AIRCRAFT,
            confidence=1.0,
            box=BoundingBox(x1=0.0, y1=0.0, x2=0.0, y2=0.0),
            track_id=track_number(report.key),
            rule=RuleKind.ZONE_INTRUSION,
            rule_name=f"{GEOFENCE_RULE_PREFIX}{site.id}",
            geo=report.position,
            frame_index=0,
        )
    )


def _describe(crossing: GeofenceCrossing, cameras: Sequence[CameraSuggestion]) -> str:
    site, report = crossing.site, crossing.report
    verb = "entered" if crossing.kind == "enter" else "left"
    height = site.height_of(report.alt_m, report.height_m)
    parts = [
        f"Drone {report.track_id} ({report.source.value}) {verb} {site.name} [{site.id}, {site.kind}]",
        f"at {report.lat:.6f}, {report.lon:.6f}"
        + (f", {height:.0f} m above ground" if height is not None else ", height unknown"),
    ]
    if report.speed_ms is not None:
        parts.append(f"speed {report.speed_ms:.1f} m/s")
    if report.operator is not None:
        away = haversine_m(report.operator, report.position)
        parts.append(f"operator at {report.operator.lat:.6f}, {report.operator.lon:.6f} ({away:.0f} m away)")
    else:
        parts.append("operator position unknown")
    if cameras:
        parts.append(
            "nearest cameras: " + ", ".join(f"{c.camera_id} ({c.distance_m:.0f} m)" for c in cameras)
        )
    return "; ".join(parts)


def geofence_alert(
    crossing: GeofenceCrossing,
    cameras: Sequence[tuple[CameraSpot, float]],
    event_id: uuid.UUID | None,
) -> DroneAlert:
    """The alert of a crossing: operator position, nearest cameras and a description."""
    site, report = crossing.site, crossing.report
    suggestions = tuple(
        CameraSuggestion(camera_id=spot.camera_id, name=spot.name, distance_m=round(distance, 1))
        for spot, distance in cameras
    )
    kind = DroneAlertKind.GEOFENCE_ENTER if crossing.kind == "enter" else DroneAlertKind.GEOFENCE_LEAVE
    return DroneAlert(
        id=_event_id(crossing),
        kind=kind,
        time=report.time,
        track_key=report.key,
        uas_id=report.track_id,
        event_id=event_id,
        site_id=site.id,
        site_name=site.name,
        classification=site.classification,
        severity=site.severity if crossing.kind == "enter" else None,
        position=report.position,
        alt_m=report.alt_m,
        operator=report.operator,
        operator_alt_m=report.operator_alt_m,
        cameras=suggestions,
        description=_describe(crossing, suggestions)[:2000],
    )
