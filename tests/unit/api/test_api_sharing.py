"""Law-gated access end to end: the army sees municipal evidence only while a condition covers it.

Also the conditions, grants and account routes' own answers (422 / 404 / 409) and the audit
records they leave.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.routers import live
from hwarang.api.settings import ApiSettings
from hwarang.hub.service import HubService
from tests.unit.api.sharing_support import (
    AREA,
    T0,
    World,
    event_message,
    open_condition_policy,
    open_hub,
    seed,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root, policy=open_condition_policy())
    yield service
    service.database.close()


@pytest.fixture
def app(hub: HubService) -> FastAPI:
    return create_app(hub, ApiSettings(jwt_secret=SecretStr("sharing-signing-key-" + "k" * 32)))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _auth(client: TestClient, hub: HubService, username: str) -> dict[str, str]:
    user = hub.identity.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {client.app.state.hwarang.tokens.issue(user)}"}  # type: ignore[attr-defined]


def _declare(client: TestClient, auth: dict[str, str], area: str = "11", **overrides: Any) -> Any:
    body = {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": [area],
        "reason": "경계태세 2급 발령, 수도권",
        "expires_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
    }
    body.update(overrides)
    return client.post("/api/v1/conditions", json=body, headers=auth)


def _army_sees(client: TestClient, army: dict[str, str], world: World) -> dict[str, Any]:
    incident_id, event_id, sha = world.incidents[0], world.events[0], world.snapshots[0]
    return {
        "snapshot": client.get(f"/api/v1/snapshots/{sha}", headers=army).status_code,
        "event": client.get(f"/api/v1/events/{event_id}", headers=army).status_code,
        "events": str(event_id) in {e["id"] for e in client.get("/api/v1/events", headers=army).json()},
        "incident": client.get(f"/api/v1/incidents/{incident_id}", headers=army).status_code,
        "incidents": str(incident_id)
        in {i["id"] for i in client.get("/api/v1/incidents", headers=army).json()},
    }


BLIND = {"snapshot": 403, "event": 403, "events": False, "incident": 403, "incidents": False}
SEEING = {"snapshot": 200, "event": 200, "events": True, "incident": 200, "incidents": True}


def _audit(hub: HubService, action: str) -> list[Any]:
    return [e for e in hub.audit.entries(limit=500) if e.action == action]


def test_army_sees_evidence_only_while_a_condition_covers_the_area(
    client: TestClient, hub: HubService, world: World
) -> None:
    army = _auth(client, hub, "army")
    commander = _auth(client, hub, "commander-in")
    assert _army_sees(client, army, world) == BLIND

    declared = _declare(client, commander)
    assert declared.status_code == 201, declared.text
    body = declared.json()
    army_grants = [g for g in body["grants"] if g["grant"]["agency_code"] == "army-cdc"]
    assert body["status"] == "active" and len(army_grants) == 1
    grant_id = army_grants[0]["grant"]["id"]
    assert _army_sees(client, army, world) == SEEING
    uses = _audit(hub, "grant.use")
    assert uses and all(e.actor == "army" and grant_id in e.detail["grant_ids"] for e in uses)
    assert {e.detail["action"] for e in uses} == {"incident.view", "evidence.view"}
    assert len(_audit(hub, "evidence.view")) == 2  # the snapshot and the event

    lifted = client.post(f"/api/v1/conditions/{body['condition']['id']}/lift", headers=commander)
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted"
    assert {g["status"] for g in lifted.json()["grants"]} == {"revoked"}
    assert _army_sees(client, army, world) == BLIND
    assert len(_audit(hub, "grant.revoke")) == len(body["grants"])
    assert [e.actor for e in _audit(hub, "condition.lift")] == ["commander-in"]


def test_army_loses_access_when_the_condition_times_out(
    client: TestClient, hub: HubService, world: World
) -> None:
    army = _auth(client, hub, "army")
    head = _auth(client, hub, "head-of-local-government-in")
    expires = datetime.now(UTC) + timedelta(seconds=4)  # room for a loaded machine to see it first

    declared = _declare(client, head, AREA, expires_at=expires.isoformat())
    assert declared.status_code == 201, declared.text
    assert _army_sees(client, army, world) == SEEING
    assert datetime.now(UTC) < expires, "too slow to observe the grant before it expired"
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.05)

    assert _army_sees(client, army, world) == BLIND
    conditions = client.get("/api/v1/conditions", headers=head).json()
    assert [c["status"] for c in conditions] == ["expired"]
    assert {g["status"] for g in conditions[0]["grants"]} == {"expired"}
    assert len(_audit(hub, "grant.expired")) == len(declared.json()["grants"])
    again = client.post(f"/api/v1/conditions/{conditions[0]['condition']['id']}/lift", headers=head)
    assert again.status_code == 409 and "expired" in again.json()["detail"]


def test_live_stream_follows_the_condition(
    client: TestClient, hub: HubService, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "SCOPE_TTL_S", 0.0)  # re-read grants for every incident
    army = _auth(client, hub, "army")["Authorization"].removeprefix("Bearer ")
    commander = _auth(client, hub, "commander-in")
    with client.websocket_connect(f"/api/v1/ws?token={army}") as ws:
        assert ws.receive_json()["type"] == "hello"
        hub.ingest.event(event_message(1))  # before any condition: not for the army
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"

        condition = _declare(client, commander).json()["condition"]["id"]
        opened = ws.receive_json()  # the army's rights changed: said at once
        assert (opened["type"], opened["grants"]) == ("access", 1)
        covered = hub.ingest.event(event_message(2)).incident
        assert covered is not None
        assert ws.receive_json()["incident"]["id"] == str(covered.id)

        client.post(f"/api/v1/conditions/{condition}/lift", headers=commander)
        closed = ws.receive_json()
        assert (closed["type"], closed["grants"]) == ("access", 0)
        hub.ingest.event(event_message(3))
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
    assert [e.detail["target"] for e in _audit(hub, "grant.use")] == ["live:/api/v1/ws"]


def test_other_areas_stay_closed_under_a_condition(client: TestClient, hub: HubService) -> None:
    busan_incident = hub.ingest.event(event_message(7, sigungu="26110", at=T0 - timedelta(hours=5))).incident
    assert busan_incident is not None
    army = _auth(client, hub, "army")
    _declare(client, _auth(client, hub, "commander-in"))

    response = client.get(f"/api/v1/incidents/{busan_incident.id}", headers=army)

    assert response.status_code == 403 and "outside your jurisdiction" in response.json()["detail"]


@pytest.mark.parametrize(
    ("user", "overrides", "status", "message"),
    [
        ("commander-in", {"alert_level": 3}, 422, "alert_level 1 or 2"),
        (
            "commander-in",
            {"kind": "exercise", "alert_level": None, "subtype": "freedom-shield"},
            422,
            "ulchi",
        ),
        (
            "commander-in",
            {"expires_at": (datetime.now(UTC) + timedelta(days=31)).isoformat()},
            422,
            "30 days",
        ),
        ("head-of-local-government-in", {}, 403, "outside their jurisdiction 11110"),
        ("operator-in", {}, 403, "condition.declare"),
    ],
)
def test_declarations_refused_with_the_reason(
    client: TestClient, hub: HubService, user: str, overrides: dict[str, Any], status: int, message: str
) -> None:
    response = _declare(client, _auth(client, hub, user), **overrides)

    assert response.status_code == status
    assert message in str(response.json()["detail"])
    assert hub.conditions.list_conditions() == []


def test_lift_unknown_is_404(client: TestClient, hub: HubService) -> None:
    response = client.post(
        "/api/v1/conditions/6f1c8e0a-4b7e-5d0e-9a3c-000000000000/lift", headers=_auth(client, hub, "admin")
    )

    assert response.status_code == 404


def test_grants_owner_sees_area_grants_partner_only_its_own(client: TestClient, hub: HubService) -> None:
    _declare(client, _auth(client, hub, "commander-in"))

    owner = client.get(
        "/api/v1/grants", params={"active": True}, headers=_auth(client, hub, "operator-in")
    ).json()
    army = client.get("/api/v1/grants", headers=_auth(client, hub, "army")).json()
    police = client.get("/api/v1/grants", headers=_auth(client, hub, "agency-liaison-in")).json()

    assert [g["grant"]["agency_code"] for g in owner] == ["army-cdc"]
    assert [g["grant"]["agency_code"] for g in army] == ["army-cdc"]
    assert police == []


def _new_user(client: TestClient, auth: dict[str, str], **overrides: Any) -> Any:
    body = {
        "username": "new-op",
        "display_name": "New operator",
        "agency_code": "seoul-jongno",
        "roles": ["operator"],
        "password": "long-enough-password",
    }
    body.update(overrides)
    return client.post("/api/v1/users", json=body, headers=auth)


def test_create_user_defaults_jurisdiction_to_the_agency_and_can_log_in(
    client: TestClient, hub: HubService
) -> None:
    created = _new_user(client, _auth(client, hub, "admin"))

    assert created.status_code == 201, created.text
    assert created.json()["jurisdiction_code"] == AREA
    assert "password" not in created.text
    login = client.post("/api/v1/auth/token", data={"username": "new-op", "password": "long-enough-password"})
    assert login.status_code == 200
    assert ("admin", "new-op") in [(e.actor, e.target) for e in _audit(hub, "user.create")]


@pytest.mark.parametrize(
    ("admin", "overrides", "status", "message"),
    [
        ("admin", {"agency_code": "nowhere"}, 422, "not registered"),
        ("admin", {"jurisdiction_code": "26"}, 422, "outside agency seoul-jongno"),
        ("admin", {"password": "short"}, 422, "at least 10"),
        ("admin", {"username": "operator-in"}, 409, "already exists"),
        ("admin-out", {}, 403, "manages accounts in 26 only"),
    ],
)
def test_create_user_refusals(
    client: TestClient, hub: HubService, admin: str, overrides: dict[str, Any], status: int, message: str
) -> None:
    response = _new_user(client, _auth(client, hub, admin), **overrides)

    assert response.status_code == status
    assert message in str(response.json()["detail"])


def test_disable_then_enable_and_not_yourself(client: TestClient, hub: HubService) -> None:
    admin = _auth(client, hub, "admin")
    op = _auth(client, hub, "operator-in")

    assert client.post("/api/v1/users/operator-in/disable", headers=admin).json()["disabled"] is True
    assert client.get("/api/v1/auth/me", headers=op).status_code == 401
    assert client.post("/api/v1/users/operator-in/enable", headers=admin).json()["disabled"] is False
    assert client.get("/api/v1/auth/me", headers=op).status_code == 200
    assert client.post("/api/v1/users/admin/disable", headers=admin).status_code == 409
    assert client.post("/api/v1/users/ghost/disable", headers=admin).status_code == 404
    listed = {u["user"]["username"] for u in client.get("/api/v1/users", headers=admin).json()}
    assert {"admin", "operator-in", "operator-out", "army"} <= listed


def test_regional_admin_cannot_take_over_an_agency_elsewhere(client: TestClient, hub: HubService) -> None:
    busan_admin = _auth(client, hub, "admin-out")
    takeover = {"code": "seoul-jongno", "name": "x", "kind": "local_government", "jurisdiction_code": "26110"}

    response = client.post("/api/v1/agencies", json=takeover, headers=busan_admin)

    assert response.status_code == 403
    agency = hub.identity.agencies.get("seoul-jongno")
    assert agency is not None and agency.jurisdiction_code == AREA
    assert [e.actor for e in _audit(hub, "access.denied")] == ["admin-out"]
