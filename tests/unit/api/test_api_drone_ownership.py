"""A friendly unit's track is moved only by its owning agency (registered, else first claim)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hwarang.domain import Agency, AgencyKind, Role, User
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.service import HubService
from tests.drone_support import site_fences
from tests.unit.api.api_support import bearer, login

ARMY_PASSWORD = "army-password-123"


@pytest.fixture
def hub_options() -> dict[str, Any]:
    return {"drones": DroneConfig(friendly_units={"uav-army-1": "army"}), "fences": site_fences()}


@pytest.fixture
def army_token(client: TestClient, hub: HubService) -> str:
    hub.identity.agencies.upsert([Agency(code="army", name="Army division", kind=AgencyKind.MILITARY)])
    user = User(username="army-op", display_name="army-op", agency_code="army", roles=(Role.OPERATOR,))
    hub.identity.users.create(user, ARMY_PASSWORD)
    return login(client, "army-op", ARMY_PASSWORD)


def _report(client: TestClient, token: str, unit: str, lat: float, second: int) -> tuple[int, str]:
    report = {
        "unit_id": unit,
        "lat": lat,
        "lon": 126.98,
        "time": datetime(2026, 3, 2, 12, 0, second, tzinfo=UTC).isoformat(),
    }
    response = client.post("/api/v1/drones/telemetry", json={"reports": [report]}, headers=bearer(token))
    return response.status_code, response.text


def test_only_the_owning_agency_moves_a_friendly_unit(
    client: TestClient, hub: HubService, operator_token: str, army_token: str
) -> None:
    assert _report(client, army_token, "uav-army-1", 37.57, 1)[0] == 200
    status, text = _report(client, operator_token, "uav-army-1", 33.4, 2)  # "flies" to Jeju
    assert status == 403 and "friendly unit uav-army-1 belongs to agency army" in text
    [track] = [t for t in hub.drones.tracks() if t.key == "mavlink:uav-army-1"]
    assert track.latest.lat == pytest.approx(37.57)
    # An unregistered unit is claimed by the first agency reporting it.
    assert _report(client, operator_token, "robot-3", 37.56, 3)[0] == 200
    status, text = _report(client, army_token, "robot-3", 37.0, 4)
    assert status == 403 and "belongs to agency seoul-jung" in text
