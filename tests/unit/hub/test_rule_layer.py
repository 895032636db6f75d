"""Camera rules projected onto the map through the calibration (``hwarang.hub.layers.rules``)."""

import math
from typing import Any

import pytest

from hwarang.domain import GeoPoint
from hwarang.geo.geodesy import TangentPlane
from hwarang.hub.layers.rules import rule_features, rules_collection

SQUARE = {  # pixel square 0..100 on a ground square 0.001 deg a side (north up, x east, y south)
    "image_points": [[0, 0], [100, 0], [100, 100], [0, 100]],
    "geo_points": [
        {"lat": 37.001, "lon": 127.0},
        {"lat": 37.001, "lon": 127.001},
        {"lat": 37.0, "lon": 127.001},
        {"lat": 37.0, "lon": 127.0},
    ],
}


def _perspective() -> dict[str, Any]:
    """A camera looking north over flat ground: the horizon is image row 40 (w = y - 40)."""
    plane = TangentPlane(GeoPoint(lat=37.5, lon=127.0))
    image = [(0.0, 100.0), (100.0, 100.0), (100.0, 60.0), (0.0, 60.0), (50.0, 80.0)]
    geo = []
    for x, y in image:
        east, north = (x - 50.0) * 10.0 / (y - 40.0), 1000.0 / (y - 40.0)
        point = plane.to_geo(east, north)
        geo.append({"lat": point.lat, "lon": point.lon})
    return {"image_points": [list(p) for p in image], "geo_points": geo}


def test_a_zone_and_a_line_are_placed_at_the_hand_computed_ground_points() -> None:
    config = {
        "calibration": SQUARE,
        "rules": [
            {"type": "zone_intrusion", "name": "yard", "polygon": [[50, 50], [100, 50], [100, 100]]},
            {"type": "line_crossing", "name": "gate", "start": [0, 50], "end": [50, 50]},
        ],
    }
    features, skipped = rule_features("cam-1", config)

    assert skipped == []
    zone, line = features
    assert zone["properties"] == {
        "camera_id": "cam-1",
        "rule": "yard",
        "kind": "zone",
        "type": "zone_intrusion",
        "clipped": False,
    }
    # pixel (50, 50) is the square's centre: lat 37.0005, lon 127.0005; (100, 100) its south-east corner
    expected = [[127.0005, 37.0005], [127.001, 37.0005], [127.001, 37.0], [127.0005, 37.0005]]
    assert zone["geometry"]["type"] == "Polygon"
    for got, want in zip(zone["geometry"]["coordinates"][0], expected, strict=True):
        assert got == pytest.approx(want, abs=1e-7)
    assert line["properties"]["kind"] == "line"
    assert line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"] == [
        pytest.approx([127.0, 37.0005], abs=1e-7),
        pytest.approx([127.0005, 37.0005], abs=1e-7),
    ]


def test_shapes_above_the_horizon_are_clipped_or_skipped_with_the_reason() -> None:
    config = {
        "calibration": _perspective(),
        "range_m": 100.0,
        "rules": [
            {"type": "loitering", "name": "field", "polygon": [[0, 100], [100, 100], [100, 0], [0, 0]]},
            {"type": "line_crossing", "name": "post", "start": [50, 100], "end": [50, 0]},
            {"type": "crowding", "name": "sky", "polygon": [[0, 0], [100, 0], [100, 30], [0, 30]]},
        ],
    }
    features, skipped = rule_features("cam-2", config)

    assert [f["properties"]["rule"] for f in features] == ["field", "post"]
    assert all(f["properties"]["clipped"] for f in features)
    ring = features[0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    # the near corners stay; the far ones are cut where the ground is twice range_m (200 m) from the
    # calibration's centroid, which lies 31.67 m north of the plane's origin (mean of 1000/(y - 40))
    centroid = (0.0, (1000.0 / 60 * 2 + 1000.0 / 20 * 2 + 1000.0 / 40) / 5)
    local = [
        TangentPlane(GeoPoint(lat=37.5, lon=127.0)).to_local(GeoPoint(lat=la, lon=lo)) for lo, la in ring
    ]
    reach = [math.dist(point, centroid) for point in local[:4]]
    # pixel (0, 100): east -500/60, north 1000/60
    assert local[1] == pytest.approx((-8.333, 16.667), abs=0.01)
    assert local[2] == pytest.approx((8.333, 16.667), abs=0.01)  # pixel (100, 100)
    assert [reach[0], reach[3]] == [pytest.approx(200.0, abs=0.5), pytest.approx(200.0, abs=0.5)]
    assert skipped == [
        {
            "camera_id": "cam-2",
            "rule": "sky",
            "reason": "the zone lies entirely at or above the calibrated horizon",
        }
    ]


def test_a_camera_without_calibration_has_its_rules_skipped() -> None:
    rules = [{"type": "zone_intrusion", "name": "yard", "polygon": [[0, 0], [10, 0], [10, 10]]}]
    body = rules_collection([("cam-3", {"rules": rules}), ("cam-4", {"calibration": SQUARE, "rules": []})])

    assert body["features"] == []
    assert body["skipped"] == [
        {"camera_id": "cam-3", "rule": "yard", "reason": "the camera has no calibration"}
    ]
