"""``GET /api/v1/map/rules``: camera rules on the ground, need-to-know, following config versions."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import Role, User
from hwarang.hub.service import HubService
from tests.unit.api.api_support import ADMIN_PASSWORD, bearer, login
from tests.unit.api.camera_admin_support import RecordingBus, camera_json, config_service, site_edge

CENTER, CAMERA = "seoul-jung-cc", "cam-jung-01"
EDGE = site_edge(CENTER, CAMERA, lat=37.5636, lon=126.9976)  # 서울 중구 (11140)
# the 960x540 frame's corners on a ground rectangle near the camera (affine: pixel (480, 270) is the
# centre, lat 37.5636 lon 126.9976)
CALIBRATION = {
    "image_points": [[0, 0], [960, 0], [960, 540], [0, 540]],
    "geo_points": [
        {"lat": 37.5637, "lon": 126.9975},
        {"lat": 37.5637, "lon": 126.9977},
        {"lat": 37.5635, "lon": 126.9977},
        {"lat": 37.5635, "lon": 126.9975},
    ],
}
TRIPWIRE = {"type": "line_crossing", "name": "gate", "start": [480, 270], "end": [960, 270]}


@pytest.fixture
def app(hub: HubService, settings: ApiSettings) -> FastAPI:
    service = config_service(hub, EDGE, RecordingBus())
    hub.cameras.upsert(service.camera_of(CENTER, camera_json(EDGE)))
    busan = User(username="op-busan", display_name="b", agency_code="seoul-jung", roles=(Role.OPERATOR,))
    hub.identity.users.create(busan.model_copy(update={"jurisdiction_code": "26"}), ADMIN_PASSWORD)
    return create_app(hub, settings, camera_config=service)


def test_rules_follow_the_current_version_and_only_in_jurisdiction(
    client: TestClient, admin_token: str, operator_token: str
) -> None:
    operator = bearer(operator_token)
    first = client.get("/api/v1/map/rules", headers=operator)
    assert first.status_code == 200 and first.headers["content-type"] == "application/geo+json"
    assert first.json()["features"] == []
    assert first.json()["skipped"] == [
        {"camera_id": CAMERA, "rule": "yard", "reason": "the camera has no calibration"}
    ]

    rules = [*camera_json(EDGE)["rules"], TRIPWIRE]
    body = {"version": 0, "config": camera_json(EDGE, calibration=CALIBRATION, rules=rules)}
    assert (
        client.put(f"/api/v1/cameras/{CAMERA}/config", json=body, headers=bearer(admin_token)).status_code
        == 200
    )

    placed = client.get("/api/v1/map/rules", headers=operator)
    zone, line = placed.json()["features"]
    assert zone["properties"] == {
        "camera_id": CAMERA,
        "rule": "yard",
        "kind": "zone",
        "type": "zone_intrusion",
        "clipped": False,
    }
    assert line["properties"]["kind"] == "line"
    assert line["geometry"]["coordinates"] == [
        pytest.approx([126.9976, 37.5636], abs=1e-7),
        pytest.approx([126.9977, 37.5636], abs=1e-7),
    ]
    etag = placed.headers["etag"]
    assert client.get("/api/v1/map/rules", headers={**operator, "If-None-Match": etag}).status_code == 304
    only = client.get("/api/v1/map/rules", params={"camera_id": "other"}, headers=operator).json()
    assert only["features"] == [] and only["skipped"] == []

    busan = bearer(login(client, "op-busan", ADMIN_PASSWORD))
    assert client.get("/api/v1/map/rules", headers=busan).json() == {
        "type": "FeatureCollection",
        "features": [],
        "skipped": [],
    }
    assert client.get("/api/v1/map/rules").status_code == 401
