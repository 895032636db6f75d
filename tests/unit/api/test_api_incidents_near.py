"""``GET /api/v1/incidents?near=lat,lon,radius_m``: incidents around a point, behind the login."""

import pytest
from fastapi.testclient import TestClient

from hwarang.domain import EventMessage, GeoPoint
from hwarang.geo.geodesy import destination
from hwarang.hub.service import HubService
from tests.unit.api.api_support import bearer, make_message

GATE = GeoPoint(lat=37.5636, lon=126.9976)


def _ingest_at(hub: HubService, track_id: int, position: GeoPoint) -> int:
    event = make_message(track_id).event.model_copy(update={"geo": position})
    incident = hub.ingest.event(EventMessage(event=event)).incident
    assert incident is not None
    return incident.seq


def test_near_keeps_incidents_within_the_radius(
    client: TestClient, operator_token: str, hub: HubService
) -> None:
    at_gate = _ingest_at(hub, 1, GATE)
    close = _ingest_at(hub, 2, destination(GATE, 45.0, 240.0))
    _ingest_at(hub, 3, destination(GATE, 45.0, 260.0))
    auth = bearer(operator_token)

    near = client.get("/api/v1/incidents", params={"near": "37.5636,126.9976,250"}, headers=auth)
    first = client.get("/api/v1/incidents", params={"near": "37.5636,126.9976,250", "limit": 1}, headers=auth)
    everything = client.get("/api/v1/incidents", headers=auth)

    assert near.status_code == 200
    assert [i["seq"] for i in near.json()] == [close, at_gate]
    assert [i["seq"] for i in first.json()] == [close]
    assert len(everything.json()) == 3


def test_near_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/incidents", params={"near": "37.5,127.0,100"}).status_code == 401


@pytest.mark.parametrize(
    "near", ["37.5,127.0", "north,127.0,100", "91,127.0,100", "37.5,127.0,-1", "37.5,127,nan"]
)
def test_bad_near_is_422_saying_the_format(client: TestClient, operator_token: str, near: str) -> None:
    response = client.get("/api/v1/incidents", params={"near": near}, headers=bearer(operator_token))
    assert response.status_code == 422
    assert "lat" in response.json()["detail"] and repr(near) in response.json()["detail"]
