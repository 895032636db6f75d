"""GeoJSON (RFC 7946) of drone and robot tracks for the map and GIS tools.

One FeatureCollection: per track a LineString of its history (when it has two points or more), a
Point at its latest position, and a Point at its operator's position when known. Every feature's
``properties`` carry ``kind`` (``drone``, ``friendly`` or ``operator``), ``uas_id`` (the track id),
``cooperative``, ``alt_m``, ``speed_ms`` and ``time`` (ISO 8601), plus ``track_key``, ``source``,
``stale`` and, on lines, ``points``. Positions are [lon, lat] rounded like
:mod:`hwarang.interop.geojson`.
"""

from collections.abc import Iterable
from typing import Any

from hwarang.domain import DroneTrack
from hwarang.interop.geojson import DECIMALS

__all__ = ["drone_tracks_to_feature_collection"]

JsonDict = dict[str, Any]


def _xy(lon: float, lat: float) -> list[float]:
    return [round(lon, DECIMALS), round(lat, DECIMALS)]


def _properties(track: DroneTrack, kind: str) -> JsonDict:
    report = track.latest
    return {
        "kind": kind,
        "uas_id": report.track_id,
        "track_key": track.key,
        "source": report.source.value,
        "cooperative": report.cooperative,
        "friendly": report.friendly,
        "stale": track.stale,
        "alt_m": report.alt_m,
        "height_m": report.height_m,
        "speed_ms": report.speed_ms,
        "heading_deg": report.heading_deg,
        "ua_type": report.ua_type,
        "time": report.time.isoformat(),
    }


def _features(track: DroneTrack) -> list[JsonDict]:
    report = track.latest
    kind = "friendly" if report.friendly else "drone"
    features: list[JsonDict] = []
    if len(track.history) >= 2:
        line = {
            "type": "LineString",
            "coordinates": [_xy(point.lon, point.lat) for point in track.history],
        }
        properties = {**_properties(track, kind), "points": len(track.history)}
        properties["first_time"] = track.history[0].time.isoformat()
        features.append(
            {"type": "Feature", "id": f"{track.key}/track", "geometry": line, "properties": properties}
        )
    point = {"type": "Point", "coordinates": _xy(report.lon, report.lat)}
    features.append(
        {"type": "Feature", "id": track.key, "geometry": point, "properties": _properties(track, kind)}
    )
    if report.operator is not None:
        operator = {"type": "Point", "coordinates": _xy(report.operator.lon, report.operator.lat)}
        properties = {**_properties(track, "operator"), "alt_m": report.operator_alt_m, "speed_ms": None}
        properties["operator_id"] = report.operator_id
        features.append(
            {"type": "Feature", "id": f"{track.key}/operator", "geometry": operator, "properties": properties}
        )
    return features


def drone_tracks_to_feature_collection(tracks: Iterable[DroneTrack]) -> JsonDict:
    """The tracks as one FeatureCollection (see the module docstring)."""
    features = [feature for track in tracks for feature in _features(track)]
    return {"type": "FeatureCollection", "features": features}
