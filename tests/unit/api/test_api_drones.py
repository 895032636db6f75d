"""The drones API: Remote ID batches (errors by item index), own-unit telemetry, tracks, GeoJSON, CoT."""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.service import HubService
from tests.drone_support import OPERATOR, UAS_ID, flight_into_site, register_cameras, site_fences
from tests.unit.api.api_support import bearer

START = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=90)


@pytest.fixture
def hub_options() -> dict[str, Any]:
    return {"drones": DroneConfig(), "fences": site_fences()}


@pytest.fixture
def drones(hub: HubService) -> DroneHub:
    register_cameras(hub)
    return hub.drones


def items(packs: list[tuple[datetime, bytes]], *, encoding: str = "hex") -> list[dict[str, str]]:
    out = []
    for at, data in packs:
        text = data.hex() if encoding == "hex" else base64.b64encode(data).decode()
        out.append({"receiver_id": "rx-1", "received_at": at.isoformat(), encoding: text})
    return out


def test_a_replayed_flight_makes_a_track_and_a_geofence_alert(
    client: TestClient, operator_token: str, drones: DroneHub, hub: HubService
) -> None:
    flight = flight_into_site(START)
    body = {"items": items(flight[:20]) + items(flight[20:30], encoding="base64")}
    response = client.post("/api/v1/drones/remote-id", json=body, headers=bearer(operator_token))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["items"], result["reports"], result["accepted"], result["errors"]) == (30, 30, 30, [])
    [alert] = result["alerts"]
    assert alert["kind"] == "geofence_enter" and alert["uas_id"] == UAS_ID
    assert alert["operator"] == {"lat": pytest.approx(OPERATOR.lat), "lon": pytest.approx(OPERATOR.lon)}
    assert [c["camera_id"] for c in alert["cameras"]] == ["cam-100", "cam-250", "cam-600"]
    assert hub.incidents.event(uuid.UUID(alert["event_id"])) is not None

    tracks = client.get("/api/v1/drones", headers=bearer(operator_token)).json()
    assert [(t["key"], t["reports"], t["history"]) for t in tracks] == [(f"remote_id:{UAS_ID}", 30, [])]
    with_history = client.get("/api/v1/drones", params={"history": True}, headers=bearer(operator_token))
    assert len(with_history.json()[0]["history"]) == 30
    listed = client.get("/api/v1/drones/alerts", params={"uas_id": UAS_ID}, headers=bearer(operator_token))
    assert [a["id"] for a in listed.json()] == [alert["id"]]


def test_bad_items_are_reported_by_index_and_the_good_ones_applied(
    client: TestClient, operator_token: str, drones: DroneHub
) -> None:
    flight = flight_into_site(START)
    good = items(flight[:3])
    truncated = {**good[1], "hex": flight[3][1][:40].hex()}
    not_hex = {**good[1], "hex": "zz"}
    bad_type = {**good[1], "hex": "e2" + "00" * 24}  # message type 0xE does not exist
    body = {"items": [good[0], truncated, good[1], not_hex, bad_type, good[2]]}
    response = client.post("/api/v1/drones/remote-id", json=body, headers=bearer(operator_token))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    by_index = {d["loc"][2]: d for d in detail}  # an item may hold several bad messages; one shown each
    assert sorted(by_index) == [1, 3, 4] and all(d["loc"][:2] == ["body", "items"] for d in detail)
    assert "truncated" in by_index[1]["msg"]
    assert "not valid hex" in by_index[3]["msg"] and by_index[3]["offset"] is None
    assert "type 0xE" in by_index[4]["msg"] and by_index[4]["offset"] == 0
    assert response.json()["result"]["accepted"] == 3  # nothing good was lost
    [track] = client.get("/api/v1/drones", headers=bearer(operator_token)).json()
    assert track["reports"] == 3


def test_malformed_requests_and_roles_are_refused(
    client: TestClient, operator_token: str, viewer_token: str, drones: DroneHub
) -> None:
    both = {"receiver_id": "rx", "received_at": START.isoformat(), "hex": "00", "base64": "AA=="}
    response = client.post("/api/v1/drones/remote-id", json={"items": [both]}, headers=bearer(operator_token))
    assert response.status_code == 422
    assert "items.0" in response.json()["message"] and "exactly one of 'hex' and 'base64'" in response.text
    naive = {"receiver_id": "rx", "received_at": "2026-11-24T10:00:00", "hex": "00"}
    response = client.post(
        "/api/v1/drones/remote-id", json={"items": [naive]}, headers=bearer(operator_token)
    )
    assert response.status_code == 422 and "received_at" in response.json()["message"]
    good = {"items": items(flight_into_site(START)[:1])}
    assert client.post("/api/v1/drones/remote-id", json=good, headers=bearer(viewer_token)).status_code == 403
    assert client.get("/api/v1/drones").status_code == 401


def test_geojson_follows_the_map_contract(client: TestClient, operator_token: str, drones: DroneHub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    flight = flight_into_site(now - timedelta(seconds=5))[:5]
    client.post("/api/v1/drones/remote-id", json={"items": items(flight)}, headers=bearer(operator_token))
    unit = {"unit_id": "sys7", "lat": 37.55, "lon": 126.99, "alt_m": 60.0, "time": now.isoformat()}
    response = client.post(
        "/api/v1/drones/telemetry", json={"reports": [unit]}, headers=bearer(operator_token)
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1
    response = client.get("/api/v1/drones/tracks.geojson", headers=bearer(operator_token))
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    document = response.json()
    assert document["type"] == "FeatureCollection"
    kinds = sorted((f["geometry"]["type"], f["properties"]["kind"]) for f in document["features"])
    assert kinds == [
        ("LineString", "drone"),
        ("Point", "drone"),
        ("Point", "friendly"),
        ("Point", "operator"),
    ]
    for feature in document["features"]:
        properties = feature["properties"]
        assert {"kind", "uas_id", "cooperative", "alt_m", "speed_ms", "time"} <= properties.keys()
        assert properties["cooperative"] is True
    line = next(f for f in document["features"] if f["geometry"]["type"] == "LineString")
    assert len(line["geometry"]["coordinates"]) == 5 and line["properties"]["uas_id"] == UAS_ID
    lon, lat = line["geometry"]["coordinates"][0]
    assert 126.9 < lon < 127.1 and 37.5 < lat < 37.6  # [lon, lat] order
    operator = next(f for f in document["features"] if f["properties"]["kind"] == "operator")
    assert operator["geometry"]["coordinates"] == pytest.approx([OPERATOR.lon, OPERATOR.lat], abs=1e-6)


def test_cot_shows_unknown_drones_their_operators_and_friendly_units(
    client: TestClient, operator_token: str, drones: DroneHub
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    client.post(
        "/api/v1/drones/remote-id",
        json={"items": items(flight_into_site(now - timedelta(seconds=2))[:2])},
        headers=bearer(operator_token),
    )
    units = [
        {"unit_id": "sys7", "lat": 37.55, "lon": 126.99, "time": now.isoformat(), "ua_type": "quadrotor"},
        {
            "unit_id": "robot-3",
            "lat": 37.551,
            "lon": 126.99,
            "time": now.isoformat(),
            "ua_type": "ground_rover",
        },
    ]
    client.post("/api/v1/drones/telemetry", json={"reports": units}, headers=bearer(operator_token))
    response = client.get("/api/v1/drones.cot", headers=bearer(operator_token))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    events = {e.get("uid"): e for e in root.findall("event")}
    assert {uid: e.get("type") for uid, e in events.items()} == {
        f"hwarang-drone-remote_id:{UAS_ID}": "a-u-A-M-F-Q",
        f"hwarang-operator-remote_id:{UAS_ID}": "a-u-G",
        "hwarang-drone-mavlink:sys7": "a-f-A-M-F-Q",
        "hwarang-drone-mavlink:robot-3": "a-f-G-E-V",
    }
    drone = events[f"hwarang-drone-remote_id:{UAS_ID}"]
    point = drone.find("point")
    assert point is not None and float(point.get("hae", "0")) == pytest.approx(120.0, abs=0.5)
    track = drone.find("detail/track")
    assert track is not None and float(track.get("speed", "0")) == pytest.approx(20.0, abs=0.3)


def test_control_characters_are_refused_and_never_reach_the_exports(
    client: TestClient, operator_token: str, drones: DroneHub
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = {"unit_id": "sys7", "lat": 37.55, "lon": 126.99, "time": now.isoformat()}
    for field, value in (("unit_id", "sys\x07"), ("ua_type", "quad\x00\x1b")):
        bad = {**good, field: value}
        refused = client.post(
            "/api/v1/drones/telemetry", json={"reports": [bad]}, headers=bearer(operator_token)
        )
        assert refused.status_code == 422, (field, refused.text)
    sent = client.post("/api/v1/drones/telemetry", json={"reports": [good]}, headers=bearer(operator_token))
    assert sent.status_code == 200, sent.text
    cot = client.get("/api/v1/drones.cot", headers=bearer(operator_token))
    assert cot.status_code == 200, cot.text
    assert [e.get("uid") for e in etree.fromstring(cot.content).findall("event")] == [
        "hwarang-drone-mavlink:sys7"
    ]
