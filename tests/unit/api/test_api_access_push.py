"""The live WebSocket tells a user at once when their own grants or shares change: a condition
declared or lifted, a grant reaching its expiry. Others hear nothing (need-to-know holds)."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.testclient import WebSocketTestSession

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.hub.service import HubService
from tests.unit.api.api_support import TEST_SECRET
from tests.unit.api.sharing_support import World, open_condition_policy, open_hub, seed

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def army_hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root, policy=open_condition_policy())
    yield service
    service.database.close()


def _condition(expires_in: timedelta) -> dict[str, Any]:
    return {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": ["11"],
        "reason": "경계태세 2급 발령, 수도권",
        "expires_at": (datetime.now(UTC) + expires_in).isoformat(),
    }


def _next_non_incident(ws: WebSocketTestSession) -> dict[str, Any]:
    for _ in range(100):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] != "incident":
            return message
    raise AssertionError("only incidents arrived")


def _rights(message: dict[str, Any]) -> tuple[int, int]:
    assert message["type"] == "access", message
    return message["grants"], message["shares"]


def _connect(client: TestClient, token: str) -> WebSocketTestSession:
    ws = client.websocket_connect(f"/api/v1/ws?token={token}").__enter__()
    assert ws.receive_json()["type"] == "hello"
    return ws


def test_declare_and_lift_are_pushed_to_the_army_and_not_to_the_owner(army_hub: HubService) -> None:
    app = create_app(army_hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET)))
    with TestClient(app) as client:
        tokens = client.app.state.hwarang.tokens  # type: ignore[attr-defined]
        users = {n: army_hub.identity.users.get(n) for n in ("army", "commander-in", "operator-in")}
        token = {n: tokens.issue(u) for n, u in users.items() if u is not None}
        commander = {"Authorization": f"Bearer {token['commander-in']}"}
        army, owner = _connect(client, token["army"]), _connect(client, token["operator-in"])
        try:
            declared = client.post(
                "/api/v1/conditions", json=_condition(timedelta(hours=1)), headers=commander
            )
            assert declared.status_code == 201, declared.text
            assert _rights(_next_non_incident(army)) == (1, 0)

            lifted = client.post(
                f"/api/v1/conditions/{declared.json()['condition']['id']}/lift", headers=commander
            )
            assert lifted.status_code == 200
            started = time.monotonic()
            assert _rights(_next_non_incident(army)) == (0, 0)
            assert time.monotonic() - started < 1.0  # pushed, not found at the next 1.5 s re-read

            # The owning center's rights did not move: its next message answers its ping.
            owner.send_json({"type": "ping"})
            assert _next_non_incident(owner)["type"] == "pong"
        finally:
            army.__exit__(None, None, None)
            owner.__exit__(None, None, None)
    assert army_hub.access_changes.notified == 2


def test_a_grant_reaching_its_expiry_is_pushed_without_any_request(army_hub: HubService) -> None:
    app = create_app(army_hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET)))
    with TestClient(app) as client:
        tokens = client.app.state.hwarang.tokens  # type: ignore[attr-defined]
        army_user, commander_user = (army_hub.identity.users.get(n) for n in ("army", "commander-in"))
        assert army_user is not None and commander_user is not None
        commander = {"Authorization": f"Bearer {tokens.issue(commander_user)}"}
        declared = client.post("/api/v1/conditions", json=_condition(timedelta(seconds=3)), headers=commander)
        assert declared.status_code == 201, declared.text
        expires_at = datetime.fromisoformat(declared.json()["condition"]["expires_at"])
        army = _connect(client, tokens.issue(army_user))
        try:
            assert _rights(_next_non_incident(army)) == (0, 0)
            late = (datetime.now(UTC) - expires_at).total_seconds()
        finally:
            army.__exit__(None, None, None)
    assert -0.1 < late < 2.0
