"""Explicit shares with a reason and an expiry, revoked; and the user told why they see what they
see (issue #15, item 3)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.routers import live
from hwarang.api.settings import ApiSettings
from hwarang.domain import Agency, AgencyKind, Role, User
from hwarang.hub.service import HubService
from tests.unit.api.sharing_support import PASSWORD, World, open_hub, seed

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root)
    service.identity.agencies.upsert(
        [Agency(code="coast-guard-seoul", name="해경", kind=AgencyKind.COAST_GUARD, jurisdiction_code="11")]
    )
    guard = User(
        username="guard",
        display_name="guard",
        agency_code="coast-guard-seoul",
        jurisdiction_code="11",
        roles=(Role.AGENCY_LIAISON,),
    )
    service.identity.users.create(guard, PASSWORD)
    yield service
    service.database.close()


@pytest.fixture
def client(hub: HubService) -> Iterator[TestClient]:
    app = create_app(hub, ApiSettings(jwt_secret=SecretStr("shares-signing-key-" + "k" * 32)))
    with TestClient(app) as test_client:
        yield test_client


def _auth(client: TestClient, hub: HubService, username: str) -> dict[str, str]:
    user = hub.identity.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {client.app.state.hwarang.tokens.issue(user)}"}  # type: ignore[attr-defined]


def test_share_with_reason_and_expiry_then_revoke(client: TestClient, hub: HubService, world: World) -> None:
    incident = world.incidents[0]
    guard = _auth(client, hub, "guard")
    head = _auth(client, hub, "head-of-local-government-in")
    until = datetime.now(UTC) + timedelta(hours=3)
    assert client.get(f"/api/v1/incidents/{incident}", headers=guard).status_code == 403
    before = client.get("/api/v1/visibility", headers=guard).json()
    assert (
        "no incident is shared with your agency right now; your tasks are in your inbox" in before["messages"]
    )
    assert any(m.startswith("no condition is in force for your area") for m in before["messages"])

    body = {
        "agency_code": "coast-guard-seoul",
        "reason": "해안 침투 확인 요청",
        "expires_at": until.isoformat(),
    }
    for partner in ("agency-liaison-in", "guard"):
        assert (
            client.post(
                f"/api/v1/incidents/{incident}/shares", json=body, headers=_auth(client, hub, partner)
            ).status_code
            == 403
        )
    no_reason = client.post(
        f"/api/v1/incidents/{incident}/shares", json={**body, "reason": " "}, headers=head
    )
    assert no_reason.status_code == 422
    both = {**body, "agency_kind": "coast_guard"}
    assert client.post(f"/api/v1/incidents/{incident}/shares", json=both, headers=head).status_code == 422
    shared = client.post(f"/api/v1/incidents/{incident}/shares", json=body, headers=head)
    assert shared.status_code == 201, shared.text
    share_id = shared.json()["id"]

    assert client.get(f"/api/v1/incidents/{incident}", headers=guard).status_code == 200
    assert str(incident) in {i["id"] for i in client.get("/api/v1/incidents", headers=guard).json()}
    after = client.get("/api/v1/visibility", headers=guard).json()
    assert [s["incident_id"] for s in after["shares"]] == [str(incident)]
    assert any("is shared with you until" in m for m in after["messages"])
    assert [s["id"] for s in client.get(f"/api/v1/incidents/{incident}/shares", headers=head).json()] == [
        share_id
    ]

    revoked = client.post(f"/api/v1/incidents/{incident}/shares/{share_id}/revoke", headers=head)
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "head-of-local-government-in"
    assert client.get(f"/api/v1/incidents/{incident}", headers=guard).status_code == 403
    again = client.post(f"/api/v1/incidents/{incident}/shares/{share_id}/revoke", headers=head)
    assert again.status_code == 409
    actions = [e.action for e in hub.audit.entries(limit=200)]
    assert "incident.share" in actions and "incident.share_revoke" in actions


def test_a_share_does_not_open_municipal_evidence_to_the_army(
    client: TestClient, hub: HubService, world: World
) -> None:
    head = _auth(client, hub, "head-of-local-government-in")
    army = _auth(client, hub, "army")
    body = {
        "agency_code": "army-cdc",
        "reason": "공유",
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    assert (
        client.post(f"/api/v1/incidents/{world.incidents[0]}/shares", json=body, headers=head).status_code
        == 201
    )
    assert client.get(f"/api/v1/incidents/{world.incidents[0]}", headers=army).status_code == 200
    assert client.get(f"/api/v1/snapshots/{world.snapshots[0]}", headers=army).status_code == 403
    messages = client.get("/api/v1/visibility", headers=army).json()["messages"]
    assert "municipal CCTV evidence opens to your agency only under a declared condition" in messages


def test_owner_is_told_it_owns(client: TestClient, hub: HubService) -> None:
    body = client.get("/api/v1/visibility", headers=_auth(client, hub, "operator-in")).json()
    assert body["owner"] is True and body["messages"][0].startswith(
        "you see the incidents of your jurisdiction"
    )


def test_a_share_is_pushed_live_to_the_agency(
    client: TestClient, hub: HubService, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "SCOPE_TTL_S", 0.0)  # re-read the scope for every incident
    guard = _auth(client, hub, "guard")["Authorization"].removeprefix("Bearer ")
    head = _auth(client, hub, "head-of-local-government-in")
    body = {
        "agency_kind": "coast_guard",
        "reason": "해안 침투",
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    with client.websocket_connect(f"/api/v1/ws?token={guard}") as ws:
        assert ws.receive_json()["type"] == "hello"
        shared = client.post(f"/api/v1/incidents/{world.incidents[0]}/shares", json=body, headers=head)
        assert shared.status_code == 201
        told = ws.receive_json()  # first: the guard's rights changed ...
        assert (told["type"], told["shares"]) == ("access", 1)
        assert ws.receive_json()["incident"]["id"] == str(world.incidents[0])  # ... then the incident
