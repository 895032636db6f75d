"""``/api/v1/map/cameras``: the cameras a user may see, as a cached GeoJSON layer with health."""

import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.routers.map import camera_layer_of
from hwarang.api.settings import ApiSettings
from hwarang.domain import Camera, GeoPoint, Role, User
from hwarang.hub.service import HubService
from tests.unit.api.api_support import OPERATOR_PASSWORD, TEST_SECRET, bearer, login

IDENTITY = {"Accept-Encoding": "identity"}
CAMERAS = (
    ("cam-jongno", "11110", 37.5729, 126.9794),
    ("cam-jung", "11140", 37.5636, 126.9976),
    ("cam-busan", "26110", 35.1064, 129.0324),
)


def _camera(camera_id: str, sigungu: str, lat: float, lon: float, **extra: object) -> Camera:
    return Camera.model_validate(
        {
            "id": camera_id,
            "center_id": f"center-{sigungu}",
            "name": f"{camera_id} gate",
            "position": GeoPoint(lat=lat, lon=lon),
            "sido_code": sigungu[:2],
            "sigungu_code": sigungu,
            **extra,
        }
    )


@pytest.fixture(autouse=True)
def cameras(hub: HubService) -> None:
    for camera_id, sigungu, lat, lon in CAMERAS:
        hub.cameras.upsert(
            _camera(camera_id, sigungu, lat, lon, heading_deg=90.0, fov_deg=45.0, range_m=120.0)
        )


def _jongno_operator(hub: HubService) -> None:
    user = User(
        username="jongno-op",
        display_name="jongno-op",
        agency_code="seoul-jung",
        jurisdiction_code="11110",
        roles=(Role.OPERATOR,),
    )
    hub.identity.users.create(user, OPERATOR_PASSWORD)


def _ids(client: TestClient, token: str) -> list[str]:
    response = client.get("/api/v1/map/cameras", headers={**bearer(token), **IDENTITY})
    assert response.status_code == 200, response.text
    return [f["properties"]["id"] for f in response.json()["features"]]


def test_nationwide_user_sees_every_camera_with_its_properties(client: TestClient, admin_token: str) -> None:
    response = client.get("/api/v1/map/cameras", headers={**bearer(admin_token), **IDENTITY})
    body = response.json()

    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["cache-control"] == "private, no-cache"
    assert body["type"] == "FeatureCollection"
    assert sorted(f["properties"]["id"] for f in body["features"]) == sorted(c[0] for c in CAMERAS)
    jongno = next(f for f in body["features"] if f["properties"]["id"] == "cam-jongno")
    assert jongno["geometry"] == {"type": "Point", "coordinates": [126.9794, 37.5729]}
    assert jongno["properties"] == {
        "id": "cam-jongno",
        "name": "cam-jongno gate",
        "center_id": "center-11110",
        "sido_code": "11",
        "sigungu_code": "11110",
        "heading_deg": 90.0,
        "fov_deg": 45.0,
        "range_m": 120.0,
        "health": "unknown",  # the hub stores no camera health; no edge runs in this process
    }


def test_sigungu_user_sees_only_the_cameras_of_their_jurisdiction(
    client: TestClient, hub: HubService, admin_token: str
) -> None:
    _jongno_operator(hub)
    token = login(client, "jongno-op", OPERATOR_PASSWORD)

    assert _ids(client, token) == ["cam-jongno"]
    assert len(_ids(client, admin_token)) == 3  # the nationwide layer is cached apart


def test_matching_etag_is_304_and_a_camera_change_makes_a_new_version(
    client: TestClient, hub: HubService, admin_token: str
) -> None:
    layer = camera_layer_of(hub.database)
    layer.recheck_s = 0.0  # look at the table on every request
    first = client.get("/api/v1/map/cameras", headers=bearer(admin_token))
    etag = first.headers["etag"]

    for k in range(5):  # other audited actions (the log grows with every view and event) change nothing
        hub.audit.record("admin", "incident.view", f"incident:{k}", {})
    unchanged = client.get("/api/v1/map/cameras", headers={**bearer(admin_token), "If-None-Match": etag})
    builds = layer.builds
    hub.cameras.upsert(_camera("cam-jongno", "11110", 37.5729, 126.9794, name="renamed"))  # same count
    changed = client.get("/api/v1/map/cameras", headers={**bearer(admin_token), "If-None-Match": etag})

    assert first.headers["content-encoding"] == "gzip"
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert builds == 1  # two requests, one read of the table
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    names = {f["properties"]["id"]: f["properties"]["name"] for f in changed.json()["features"]}
    assert names["cam-jongno"] == "renamed"


def test_health_comes_from_the_edge_in_the_same_process(hub: HubService) -> None:
    states = [
        {"camera_id": "cam-jongno", "state": "running"},
        {"camera_id": "cam-jung", "state": "retrying"},
        {"camera_id": "cam-busan", "state": "failed"},
    ]
    settings = ApiSettings(jwt_secret=SecretStr(TEST_SECRET))
    app = create_app(hub, settings, health_extra=lambda: {"cameras": states})
    with TestClient(app) as client:
        token = login(client, "op1", OPERATOR_PASSWORD)
        first = client.get("/api/v1/map/cameras", headers=bearer(token)).json()
        states[2] = {"camera_id": "cam-busan", "state": "starting"}
        later = client.get("/api/v1/map/cameras", headers=bearer(token)).json()

    health = {f["properties"]["id"]: f["properties"]["health"] for f in first["features"]}
    assert health == {"cam-jongno": "ok", "cam-jung": "down", "cam-busan": "down"}
    assert {f["properties"]["id"]: f["properties"]["health"] for f in later["features"]}[
        "cam-busan"
    ] == "unknown"


def test_camera_layer_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/map/cameras").status_code == 401


def test_the_app_prepares_the_nationwide_layer_when_it_starts(client: TestClient, hub: HubService) -> None:
    layer = camera_layer_of(hub.database)
    deadline = time.monotonic() + 30.0
    while layer.builds == 0 and time.monotonic() < deadline:  # no request made: the start-up thread builds it
        time.sleep(0.05)

    assert layer.builds == 1


def test_a_camera_whose_source_cannot_open_is_down_with_the_reason(hub: HubService) -> None:
    reason = "camera cam-jung: video file not found: /no/such/video.avi"
    reports = [
        {"camera_id": "cam-jongno", "state": "running", "last_error": None},
        {"camera_id": "cam-jung", "state": "retrying", "last_error": reason, "frames_in": 0},
    ]
    settings = ApiSettings(jwt_secret=SecretStr(TEST_SECRET))
    app = create_app(hub, settings, health_extra=lambda: {"cameras": reports})
    with TestClient(app) as client:
        token = login(client, "op1", OPERATOR_PASSWORD)
        layer = client.get("/api/v1/map/cameras", headers=bearer(token)).json()

    props = {f["properties"]["id"]: f["properties"] for f in layer["features"]}
    assert props["cam-jung"]["health"] == "down"
    assert props["cam-jung"]["health_reason"] == reason
    assert props["cam-jongno"]["health"] == "ok" and "health_reason" not in props["cam-jongno"]
    assert props["cam-busan"]["health"] == "unknown" and "health_reason" not in props["cam-busan"]
