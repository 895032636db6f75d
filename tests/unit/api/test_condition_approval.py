"""Conditions as the law has them (issue #15, item 2): the shipped policy says who declares which
kind; a grant for the military waits for the local government's approval (declare -> approve ->
open; reject; lift), each step audited."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import ConditionKind, Role, User
from hwarang.hub.service import HubService
from hwarang.hub.sharing.condition_policy import ConditionPolicy
from tests.unit.api.sharing_support import AREA, PASSWORD, World, open_hub, seed

pytestmark = pytest.mark.timeout(60)
POLICE_COMMANDER = User(
    username="police-commander",
    display_name="p",
    agency_code="police-seoul",
    jurisdiction_code="11",
    roles=(Role.COMMANDER,),
)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root)
    service.identity.users.create(POLICE_COMMANDER, PASSWORD)
    yield service
    service.database.close()


@pytest.fixture
def client(hub: HubService) -> Iterator[TestClient]:
    app = create_app(hub, ApiSettings(jwt_secret=SecretStr("approval-signing-key-" + "k" * 32)))
    with TestClient(app) as test_client:
        yield test_client


def _auth(client: TestClient, hub: HubService, username: str) -> dict[str, str]:
    user = hub.identity.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {client.app.state.hwarang.tokens.issue(user)}"}  # type: ignore[attr-defined]


def _declare(client: TestClient, auth: dict[str, str], **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": [AREA],
        "reason": "경계태세 2급",
        "expires_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
    }
    body.update(overrides)
    return client.post("/api/v1/conditions", json=body, headers=auth)


def _actions(hub: HubService) -> list[str]:
    return [e.action for e in hub.audit.entries(limit=500)]


def test_declare_approve_open_lift(client: TestClient, hub: HubService, world: World) -> None:
    army, head = _auth(client, hub, "army"), _auth(client, hub, "head-of-local-government-in")
    snapshot = f"/api/v1/snapshots/{world.snapshots[0]}"
    declared = _declare(client, army)
    assert declared.status_code == 201, declared.text
    body = declared.json()
    assert body["status"] == "awaiting_approval"
    assert {g["status"] for g in body["grants"]} == {"pending"}
    assert client.get(snapshot, headers=army).status_code == 403  # a grant is not used before approval
    condition = body["condition"]["id"]

    for someone in ("commander-in", "operator-in", "army", "head-of-local-government-out"):
        refused = client.post(f"/api/v1/conditions/{condition}/approve", headers=_auth(client, hub, someone))
        assert refused.status_code == 403, someone
    approved = client.post(f"/api/v1/conditions/{condition}/approve", headers=head)
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert client.get(snapshot, headers=army).status_code == 200
    again = client.post(f"/api/v1/conditions/{condition}/approve", headers=head)
    assert again.status_code == 409

    lifted = client.post(f"/api/v1/conditions/{condition}/lift", headers=army)
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted"
    assert client.get(snapshot, headers=army).status_code == 403
    actions = _actions(hub)
    for action in ("condition.declare", "grant.awaiting_approval", "condition.approve", "grant.open"):
        assert action in actions
    assert "condition.lift" in actions and "grant.revoke" in actions


def test_reject_keeps_the_grants_closed(client: TestClient, hub: HubService, world: World) -> None:
    army, head = _auth(client, hub, "army"), _auth(client, hub, "head-of-local-government-in")
    condition = _declare(client, army).json()["condition"]["id"]
    no_reason = client.post(f"/api/v1/conditions/{condition}/reject", json={"reason": " "}, headers=head)
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/api/v1/conditions/{condition}/reject", json={"reason": "no threat"}, headers=head
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert {g["status"] for g in rejected.json()["grants"]} == {"revoked"}
    assert client.get(f"/api/v1/snapshots/{world.snapshots[0]}", headers=army).status_code == 403
    assert client.post(f"/api/v1/conditions/{condition}/approve", headers=head).status_code == 409
    record = next(e for e in hub.audit.entries(limit=100) if e.action == "condition.reject")
    assert record.actor == "head-of-local-government-in" and record.detail["reason"] == "no threat"


def test_who_declares_what(client: TestClient, hub: HubService) -> None:
    police = _auth(client, hub, "police-commander")
    terror = _declare(client, police, kind="terror", alert_level=None)
    assert terror.status_code == 403
    assert "terror conditions are declared by intelligence" in terror.json()["detail"]
    head = _auth(client, hub, "head-of-local-government-in")
    assert _declare(client, head).status_code == 403  # a mayor does not raise military alert levels
    disaster = _declare(client, head, kind="disaster", alert_level=None, subtype="flood")
    assert disaster.status_code == 201 and disaster.json()["status"] == "active"  # the mayor's own
    too_long = _declare(
        client, _auth(client, hub, "army"), expires_at=(datetime.now(UTC) + timedelta(days=8)).isoformat()
    )
    assert too_long.status_code == 422 and "7 days" in too_long.json()["detail"]
    refusals = [e for e in hub.audit.entries(limit=100) if e.action == "access.denied"]
    assert len(refusals) == 2


def test_policy_file_has_every_kind_with_its_legal_basis(client: TestClient, hub: HubService) -> None:
    policy = ConditionPolicy.load()
    assert set(policy.kinds) == set(ConditionKind)
    response = client.get("/api/v1/conditions/policy", headers=_auth(client, hub, "operator-in"))
    assert response.status_code == 200
    kinds = response.json()["kinds"]
    assert all(rule["legal_basis"] for rule in kinds.values())
    assert kinds["alert_level"]["approval"] == "local_government"


def test_a_broken_policy_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("schema_version: 1\nkinds: {alert_level: {legal_basis: x}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=str(path)):
        ConditionPolicy.load(path)
