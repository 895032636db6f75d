"""REST resources: events, incidents, snapshots, cameras, health, headers and the page."""

import hashlib
import re

from fastapi.testclient import TestClient

from hwarang.api.middleware import CONTENT_SECURITY_POLICY
from hwarang.domain import Camera, GeoPoint
from hwarang.hub.service import HubService
from hwarang.web import STATIC_DIR
from tests.unit.api.api_support import bearer, jpeg_bytes, make_message, message_json


def test_post_event_new_then_duplicate(client: TestClient, operator_token: str, hub: HubService) -> None:
    body = message_json(make_message(1))

    first = client.post("/api/v1/events", json=body, headers=bearer(operator_token))
    again = client.post("/api/v1/events", json=body, headers=bearer(operator_token))

    assert first.status_code == 201
    created = first.json()
    assert created["event_id"] == body["event"]["id"]
    assert created["duplicate"] is False
    assert created["incident_id"] is not None
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    incidents = client.get("/api/v1/incidents", headers=bearer(operator_token)).json()
    assert [incident["id"] for incident in incidents] == [created["incident_id"]]
    assert ("op1", "event.post") in [(e.actor, e.action) for e in hub.audit.entries(limit=20)]


def test_malformed_event_is_422_naming_the_field(client: TestClient, operator_token: str) -> None:
    body = message_json(make_message(1))
    del body["event"]["camera_id"]
    body["event"]["confidence"] = 3.0

    response = client.post("/api/v1/events", json=body, headers=bearer(operator_token))

    assert response.status_code == 422
    message = response.json()["message"]
    assert "event.camera_id" in message
    assert "event.confidence" in message


def test_event_with_mismatched_snapshot_is_422(client: TestClient, operator_token: str) -> None:
    body = message_json(make_message(1, snapshot=True))
    body["event"]["snapshot"]["sha256"] = "ab" * 32

    response = client.post("/api/v1/events", json=body, headers=bearer(operator_token))

    assert response.status_code == 422
    assert "sha256" in response.json()["message"]


def test_events_list_and_get(client: TestClient, operator_token: str) -> None:
    for track in (1, 2):
        client.post("/api/v1/events", json=message_json(make_message(track)), headers=bearer(operator_token))
    event_id = str(make_message(2).event.id)

    listed = client.get("/api/v1/events", params={"camera_id": "cam-01"}, headers=bearer(operator_token))
    one = client.get(f"/api/v1/events/{event_id}", headers=bearer(operator_token))
    other_camera = client.get(
        "/api/v1/events", params={"camera_id": "cam-99"}, headers=bearer(operator_token)
    )
    missing = client.get(f"/api/v1/events/{make_message(9).event.id}", headers=bearer(operator_token))

    assert len(listed.json()) == 2
    assert one.json()["id"] == event_id
    assert other_camera.json() == []
    assert missing.status_code == 404


def test_incidents_list_after_seq_limit_and_get(client: TestClient, operator_token: str) -> None:
    auth = bearer(operator_token)
    for track in (1, 2, 3):
        client.post("/api/v1/events", json=message_json(make_message(track)), headers=auth)
    client.post("/api/v1/events", json=message_json(make_message(4, exercise=True)), headers=auth)

    real = client.get("/api/v1/incidents", headers=auth).json()
    everything = client.get("/api/v1/incidents", params={"include_exercise": True}, headers=auth).json()
    after = client.get("/api/v1/incidents", params={"after_seq": real[-1]["seq"]}, headers=auth).json()
    limited = client.get("/api/v1/incidents", params={"limit": 1}, headers=auth).json()

    assert [i["seq"] for i in real] == sorted((i["seq"] for i in real), reverse=True)
    assert len(real) == 3
    assert len(everything) == 4
    assert [i["seq"] for i in after] == [i["seq"] for i in real[:2]]
    assert limited == real[:1]
    one = client.get(f"/api/v1/incidents/{real[0]['id']}", headers=auth)
    assert one.json() == real[0]
    for limit in (0, 5001):  # the map loads up to 5000 at once
        assert client.get("/api/v1/incidents", params={"limit": limit}, headers=auth).status_code == 422


def test_missing_incident_is_404(client: TestClient, operator_token: str) -> None:
    response = client.get(
        "/api/v1/incidents/6f1c8e0a-4b7e-5d0e-9a3c-000000000000", headers=bearer(operator_token)
    )

    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_snapshot_roundtrip_and_audit(client: TestClient, operator_token: str, hub: HubService) -> None:
    auth = bearer(operator_token)
    client.post("/api/v1/events", json=message_json(make_message(5, snapshot=True)), headers=auth)
    data = jpeg_bytes(5)
    digest = hashlib.sha256(data).hexdigest()

    response = client.get(f"/api/v1/snapshots/{digest}", headers=auth)

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    views = [e for e in hub.audit.entries(limit=20) if e.action == "evidence.view"]
    assert [(e.actor, e.target) for e in views] == [("op1", f"snapshot:{digest}")]
    incident = client.get("/api/v1/incidents", headers=auth).json()[0]
    assert incident["snapshot_sha256"] == digest


def test_snapshot_bad_hash_is_400_unknown_is_404(client: TestClient, operator_token: str) -> None:
    auth = bearer(operator_token)

    bad = client.get("/api/v1/snapshots/not-a-hash", headers=auth)
    traversal = client.get("/api/v1/snapshots/..%2F..%2Fetc%2Fpasswd", headers=auth)
    unknown = client.get(f"/api/v1/snapshots/{'0' * 64}", headers=auth)

    assert bad.status_code == 400
    assert traversal.status_code in (400, 404)
    assert unknown.status_code == 404


def test_cameras_list(client: TestClient, operator_token: str, hub: HubService) -> None:
    hub.cameras.upsert(
        Camera(
            id="cam-01",
            center_id="seoul-jung",
            name="North gate",
            position=GeoPoint(lat=37.56, lon=126.99),
            sido_code="11",
            sigungu_code="11140",
        )
    )

    cameras = client.get("/api/v1/cameras", headers=bearer(operator_token)).json()

    assert [(c["id"], c["name"]) for c in cameras] == [("cam-01", "North gate")]


def test_health_is_public_and_reports_counters(client: TestClient, operator_token: str) -> None:
    client.post("/api/v1/events", json=message_json(make_message(1)), headers=bearer(operator_token))

    body = client.get("/api/v1/health").json()

    assert body["status"] == "ok"
    assert body["version"]
    assert body["last_seq"] == 1
    assert body["hub"]["incidents"] == 1
    assert body["extra"] == {"edge": {"cameras_online": 1}}
    assert body["live"]["published"] == 1


def test_openapi_requires_login_and_lists_routes(client: TestClient, operator_token: str) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404

    spec = client.get("/api/v1/openapi.json", headers=bearer(operator_token)).json()

    assert spec["info"]["title"] == "Hwarang hub API"
    assert {"/api/v1/incidents", "/api/v1/events", "/api/v1/auth/token"} <= spec["paths"].keys()


def test_security_headers_on_api_page_and_errors(client: TestClient) -> None:
    for response in (client.get("/api/v1/health"), client.get("/"), client.get("/api/v1/cameras")):
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/api/v1/health").headers["cache-control"] == "no-store"


def test_page_is_served_with_test_ids(client: TestClient) -> None:
    page = client.get("/")
    script = client.get("/static/app.js")
    style = client.get("/static/style.css")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for test_id in ("login-username", "login-password", "login-submit", "login-error", "incident-table"):
        assert f'data-testid="{test_id}"' in page.text
    for test_id in ("incident-count", "connection-state", "logout"):
        assert f'data-testid="{test_id}"' in page.text
    assert "incident-row" in script.text
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert style.status_code == 200


def test_page_references_no_external_url() -> None:
    """Our page and code name no other host; MapLibre's CSS only XML namespaces inside data: SVGs.

    (The browser test records every request the page makes: tests/e2e/test_situation_room.py.)
    """
    external = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
    xml_namespaces = re.compile(r"http://www\.w3\.org/(2000/svg|1999/xhtml|1999/xlink)")
    for name in ("index.html", "app.js", "style.css"):
        text = xml_namespaces.sub("", (STATIC_DIR / name).read_text(encoding="utf-8"))
        assert "http://" not in text, name
        assert "https://" not in text, name
        assert external.search(text) is None, f"{name}: {external.search(text)}"


def test_health_reports_degraded_and_failed_conditions(client: TestClient, hub: HubService) -> None:
    hub.health.raise_condition("store", "degraded", "store unavailable: connection refused")
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["conditions"] == [
        {
            "schema_version": 1,
            "name": "store",
            "level": "degraded",
            "reason": "store unavailable: connection refused",
        }
    ]
    hub.health.raise_condition("integrity", "failed", "store damaged: quick_check: page 3 is never used")
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "failed"
    assert [c["name"] for c in response.json()["conditions"]] == ["integrity", "store"]
    hub.health.clear("integrity")
    hub.health.clear("store")
    assert client.get("/api/v1/health").json()["status"] == "ok"
