"""The camera map layer on SQLite and a real PostgreSQL (view geometry read from the JSON payload in SQL)."""

import json

import pytest

from hwarang.domain import Camera, GeoPoint
from hwarang.hub.layers.cameras import CameraLayer
from hwarang.hub.service import HubService

pytestmark = pytest.mark.integration


def _camera(camera_id: str, sigungu: str, heading: float, name: str = "gate") -> Camera:
    return Camera(
        id=camera_id,
        center_id=f"center-{sigungu}",
        name=name,
        position=GeoPoint(lat=37.5729, lon=126.9794),
        heading_deg=heading,
        fov_deg=50.0,
        range_m=110.0,
        sido_code=sigungu[:2],
        sigungu_code=sigungu,
    )


def test_camera_layer_reads_view_geometry_and_follows_changes(engine_service: HubService) -> None:
    engine_service.cameras.upsert(_camera("cam-a", "11110", 45.5))
    engine_service.cameras.upsert(_camera("cam-b", "26110", 300.0))
    layer = CameraLayer(engine_service.database, recheck_s=0.0)

    nation = layer.layer(None)
    jongno = layer.layer("11110")
    engine_service.cameras.upsert(_camera("cam-a", "11110", 90.0, name="north gate"))  # same count
    changed = layer.layer(None)

    features = json.loads(nation.body)["features"]
    assert [f["properties"]["id"] for f in features] == ["cam-a", "cam-b"]
    assert features[0]["properties"] | {"health": "?"} == {
        "id": "cam-a",
        "name": "gate",
        "center_id": "center-11110",
        "sido_code": "11",
        "sigungu_code": "11110",
        "heading_deg": 45.5,
        "fov_deg": 50.0,
        "range_m": 110.0,
        "health": "?",
    }
    assert [f["properties"]["id"] for f in json.loads(jongno.body)["features"]] == ["cam-a"]
    assert changed.etag != nation.etag
    renamed = json.loads(changed.body)["features"][0]["properties"]
    assert (renamed["name"], renamed["heading_deg"]) == ("north gate", 90.0)
    assert layer.builds == 2
