"""Camera rules on the map: zones and tripwires projected from pixels through each camera's calibration.

A rule is drawn in the pixels of the analysed frame (``polygon`` for zones, ``start``/``end`` for
a tripwire). Only a calibrated camera can place them on the ground (the field-of-view fallback
places events roughly, not shapes): a camera without calibration, or a bad one, has its rules
listed under the collection's ``skipped`` member with the reason. Parts of a shape the
calibration cannot place (at or above the horizon) or places far away (beyond twice the camera's
``range_m`` from the calibrated area: a zone drawn up to the horizon would otherwise reach
kilometres) are clipped off; the placeable part of the image is convex, so the clip is exact up
to the bisection's precision, and the feature says ``clipped: true``.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from hwarang.domain import Calibration, GeoPoint
from hwarang.geo.calibration import GroundProjector
from hwarang.geo.errors import GeoError

__all__ = ["RULE_KINDS", "rule_features", "rules_collection"]

logger = logging.getLogger(__name__)

RULE_KINDS: dict[str, str] = {
    "zone_intrusion": "zone",
    "loitering": "zone",
    "crowding": "zone",
    "line_crossing": "line",
}
"""Rule ``type`` -> map kind (``zone``: a polygon; ``line``: a tripwire)."""

DEFAULT_RANGE_M = 80.0
"""The site file's default ``range_m``."""
REACH_RANGES = 2.0
MIN_REACH_M = 50.0
"""Shapes are drawn up to ``max(MIN_REACH_M, REACH_RANGES * range_m)`` from the calibrated area."""

_BISECTIONS = 30
_Pixel = tuple[float, float]


def _placed(projector: GroundProjector, pixel: _Pixel) -> GeoPoint | None:
    try:
        return projector.project(*pixel)
    except GeoError:
        return None


def _edge_limit(projector: GroundProjector, inside: _Pixel, outside: _Pixel) -> _Pixel:
    """The last placeable pixel on the segment from ``inside`` (placeable) towards ``outside``."""
    low, high = 0.0, 1.0
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2.0
        point = (inside[0] + (outside[0] - inside[0]) * middle, inside[1] + (outside[1] - inside[1]) * middle)
        if _placed(projector, point) is None:
            high = middle
        else:
            low = middle
    return (inside[0] + (outside[0] - inside[0]) * low, inside[1] + (outside[1] - inside[1]) * low)


def _clip_ring(projector: GroundProjector, ring: Sequence[_Pixel]) -> list[_Pixel]:
    """Sutherland-Hodgman clip of a pixel polygon to the placeable part of the image."""
    out: list[_Pixel] = []
    for i, current in enumerate(ring):
        previous = ring[i - 1]
        current_ok = _placed(projector, current) is not None
        previous_ok = _placed(projector, previous) is not None
        if current_ok:
            if not previous_ok:
                out.append(_edge_limit(projector, current, previous))
            out.append(current)
        elif previous_ok:
            out.append(_edge_limit(projector, previous, current))
    return out


def _lon_lat(point: GeoPoint | None) -> list[float]:
    if point is None:  # clipped pixels are placeable; guarded for the type checker
        raise GeoError("clipped pixel not placeable")
    return [round(point.lon, 7), round(point.lat, 7)]


def _pixels(value: Any) -> list[_Pixel]:
    return [(float(p[0]), float(p[1])) for p in value]


def _shape(projector: GroundProjector, kind: str, rule: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """GeoJSON geometry of one rule and whether it was clipped; GeoError when nothing is placeable."""
    if kind == "zone":
        ring = _pixels(rule["polygon"])
        clipped = _clip_ring(projector, ring)
        if len(clipped) < 3:
            raise GeoError("the zone lies entirely at or above the calibrated horizon")
        coords = [_lon_lat(_placed(projector, p)) for p in clipped]
        was_clipped = clipped != ring
        return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}, was_clipped
    start, end = _pixels([rule["start"], rule["end"]])
    start_ok, end_ok = _placed(projector, start) is not None, _placed(projector, end) is not None
    if not (start_ok or end_ok):
        raise GeoError("the line lies entirely at or above the calibrated horizon")
    if not start_ok:
        start = _edge_limit(projector, end, start)
    elif not end_ok:
        end = _edge_limit(projector, start, end)
    coords = [_lon_lat(_placed(projector, start)), _lon_lat(_placed(projector, end))]
    return {"type": "LineString", "coordinates": coords}, not (start_ok and end_ok)


def rule_features(
    camera_id: str, config: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The camera's rules as GeoJSON features, and the rules skipped with the reason.

    ``config`` is the camera as in the site file (JSON). Features carry ``{camera_id, rule, kind,
    type, clipped}``; skipped entries ``{camera_id, rule, reason}``.
    """
    rules = [r for r in config.get("rules", []) if isinstance(r, Mapping) and r.get("type") in RULE_KINDS]
    if not rules:
        return [], []

    def skip_all(reason: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        return [], [{"camera_id": camera_id, "rule": str(r.get("name", "")), "reason": reason} for r in rules]

    raw = config.get("calibration")
    if raw is None:
        return skip_all("the camera has no calibration")
    try:
        reach = max(MIN_REACH_M, REACH_RANGES * float(config.get("range_m", DEFAULT_RANGE_M)))
        projector = GroundProjector.from_calibration(Calibration.model_validate(raw), max_distance_m=reach)
    except (GeoError, ValidationError) as exc:
        logger.warning("camera %s: rules not placed on the map: %s", camera_id, exc)
        return skip_all(f"unusable calibration: {exc}")
    features: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for rule in rules:
        name, kind = str(rule.get("name", "")), RULE_KINDS[str(rule["type"])]
        try:
            geometry, clipped = _shape(projector, kind, rule)
        except (GeoError, KeyError, TypeError, ValueError, IndexError) as exc:
            skipped.append({"camera_id": camera_id, "rule": name, "reason": str(exc)})
            continue
        properties = {"camera_id": camera_id, "rule": name, "kind": kind, "type": rule["type"]}
        features.append(
            {"type": "Feature", "geometry": geometry, "properties": {**properties, "clipped": clipped}}
        )
    return features, skipped


def rules_collection(configs: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """A FeatureCollection of the rules of ``(camera_id, config)`` pairs, with a ``skipped`` member."""
    features: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for camera_id, config in configs:
        placed, left_out = rule_features(camera_id, config)
        features.extend(placed)
        skipped.extend(left_out)
    return {"type": "FeatureCollection", "features": features, "skipped": skipped}
