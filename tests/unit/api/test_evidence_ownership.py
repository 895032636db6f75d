"""Evidence follows ownership: a snapshot is visible only through incidents whose events brought it
from its own center; naming its hash in another event grants nothing (issue #15, item 1)."""

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import EventMessage, stable_event_id
from hwarang.hub.service import HubService
from tests.unit.api.sharing_support import AREA, World, event_message, open_hub, seed

pytestmark = pytest.mark.timeout(60)
NEIGHBOUR = "11140"  # 서울 중구: in the army's sido, outside the condition's area


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root)
    yield service
    service.database.close()


@pytest.fixture
def client(hub: HubService) -> Iterator[TestClient]:
    app = create_app(hub, ApiSettings(jwt_secret=SecretStr("ownership-signing-key-" + "k" * 32)))
    with TestClient(app) as test_client:
        yield test_client


def _auth(client: TestClient, hub: HubService, username: str) -> dict[str, str]:
    user = hub.identity.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {client.app.state.hwarang.tokens.issue(user)}"}  # type: ignore[attr-defined]


def _neighbour_snapshot(hub: HubService) -> str:
    """An event with its image from the neighbouring district's own center; its snapshot hash."""
    base = event_message(900, sigungu=NEIGHBOUR)
    event = base.event.model_copy(update={"center_id": "seoul-jung", "camera_id": "cam-jung-01"})
    hub.ingest.event(EventMessage(event=event, snapshot_jpeg=base.snapshot_jpeg))
    assert event.snapshot is not None
    return event.snapshot.sha256


def _forged_reference(hub: HubService, sha256: str) -> str:
    """An event in the granted area naming ``sha256`` without bringing the image; its incident id."""
    base = event_message(901, snapshot=False)
    at = base.event.occurred_at + timedelta(hours=1)
    ref = event_message(900).event.snapshot
    assert ref is not None
    event = base.event.model_copy(
        update={
            "snapshot": ref.model_copy(update={"sha256": sha256}),
            "occurred_at": at,
            "id": stable_event_id(base.event.camera_id, "gate", 901, at),
        }
    )
    result = hub.ingest.event(EventMessage(event=event))
    assert result.incident is not None
    return str(result.incident.id)


def _declare_on_area(client: TestClient, hub: HubService) -> None:
    body = {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": [AREA],
        "reason": "경계태세 2급 발령",
        "expires_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
    }
    response = client.post("/api/v1/conditions", json=body, headers=_auth(client, hub, "commander-in"))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "awaiting_approval"
    approver = _auth(client, hub, "head-of-local-government-in")
    condition = response.json()["condition"]["id"]
    approved = client.post(f"/api/v1/conditions/{condition}/approve", headers=approver)
    assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text


def test_naming_a_hash_does_not_stretch_a_grant(client: TestClient, hub: HubService, world: World) -> None:
    army = _auth(client, hub, "army")
    sha = _neighbour_snapshot(hub)
    _declare_on_area(client, hub)
    assert client.get(f"/api/v1/snapshots/{world.snapshots[0]}", headers=army).status_code == 200
    assert client.get(f"/api/v1/snapshots/{sha}", headers=army).status_code == 403

    forged_incident = _forged_reference(hub, sha)
    refused = client.get(f"/api/v1/snapshots/{sha}", headers=army)
    assert refused.status_code == 403
    assert NEIGHBOUR not in refused.text
    assert not [e for e in hub.audit.entries(limit=500) if e.action == "evidence.view" and sha in e.target]

    package = client.get(f"/api/v1/incidents/{forged_incident}/package", headers=army)
    assert package.status_code == 200, package.text
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert f"snapshots/{sha}.jpg" not in names


def test_own_center_still_sees_its_snapshot(client: TestClient, hub: HubService, world: World) -> None:
    _forged_reference(hub, world.snapshots[0])  # a second event of the same center naming it
    operator = _auth(client, hub, "operator-in")
    assert client.get(f"/api/v1/snapshots/{world.snapshots[0]}", headers=operator).status_code == 200


def test_track_needs_the_evidence_right(client: TestClient, hub: HubService, world: World) -> None:
    incident = world.incidents[0]
    army = _auth(client, hub, "army")
    evaluator = _auth(client, hub, "evaluator-in")
    assert client.get(f"/api/v1/incidents/{incident}/track", headers=army).status_code == 403
    assert client.get(f"/api/v1/incidents/{incident}/track", headers=evaluator).status_code == 403
    assert client.get(f"/api/v1/events/{world.events[0]}", headers=army).status_code == 403
    operator = _auth(client, hub, "operator-in")
    assert client.get(f"/api/v1/incidents/{incident}/track", headers=operator).status_code == 200
    _declare_on_area(client, hub)
    assert client.get(f"/api/v1/incidents/{incident}/track", headers=army).status_code == 200
