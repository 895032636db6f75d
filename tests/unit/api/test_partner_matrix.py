"""Partner agencies at work, as a matrix: agency kind x own / other agency's task x in / out of
jurisdiction x with / without a condition (issue #15, items 3 and 6).

Each case runs on a fresh copy of one seeded hub (``sharing_support``): incidents of Jongno
(11110) shared with the police, a task for ``police-seoul`` and, with ``condition``, an alert
level declared on 11110 (grants to the army).
"""

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import ConditionKind, Role, User
from hwarang.hub.service import HubService
from tests.unit.api.sharing_support import AREA, PASSWORD, World, open_hub, seed

pytestmark = pytest.mark.timeout(120)

PARTNERS = (
    User(
        username="police-op",
        display_name="p",
        agency_code="police-seoul",
        jurisdiction_code="11",
        roles=(Role.OPERATOR,),
    ),
    User(
        username="police-busan-op",
        display_name="pb",
        agency_code="police-busan",
        jurisdiction_code="26",
        roles=(Role.OPERATOR,),
    ),
    User(
        username="army-op",
        display_name="a",
        agency_code="army-cdc",
        jurisdiction_code="11",
        roles=(Role.OPERATOR,),
    ),
    User(
        username="jongno-op",
        display_name="j",
        agency_code="seoul-jongno",
        jurisdiction_code=AREA,
        roles=(Role.OPERATOR,),
    ),
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("partner") / "hub"
    world = seed(root, slots=1, with_workflow=False)
    hub = open_hub(root)
    try:
        for user in PARTNERS:
            hub.identity.users.create(user, PASSWORD)
        admin = hub.identity.users.get("admin")
        assert admin is not None
        due = datetime.now(UTC) + timedelta(days=1)
        world.tasks.append(
            hub.workflow.tasks.create_task(world.incidents[0], "police-seoul", "Gate", due, "admin").id
        )
        world.tasks.append(
            hub.workflow.tasks.create_task(world.incidents[0], "army-cdc", "Patrol", due, "admin").id
        )
    finally:
        hub.database.close()
    return world


@pytest.fixture
def fresh(seeded: World, tmp_path: Path) -> Iterator[tuple[HubService, TestClient, World]]:
    root = tmp_path / "hub"
    shutil.copytree(seeded.root, root)
    hub = open_hub(root)
    app = create_app(hub, ApiSettings(jwt_secret=SecretStr("partner-signing-key-" + "k" * 32)))
    world = World(root, incidents=seeded.incidents, snapshots=seeded.snapshots, tasks=seeded.tasks)
    with TestClient(app) as client:
        yield hub, client, world
    hub.database.close()


def _as(client: TestClient, hub: HubService, username: str) -> dict[str, str]:
    user = hub.identity.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {client.app.state.hwarang.tokens.issue(user)}"}  # type: ignore[attr-defined]


def _declare(hub: HubService) -> None:
    admin = hub.identity.users.get("admin")
    assert admin is not None
    hub.conditions.declare(
        kind=ConditionKind.ALERT_LEVEL,
        subtype=None,
        alert_level=2,
        area_codes=[AREA],
        reason="matrix",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        actor=admin,
    )


OWN, OTHER = 0, 1  # the police task, the army task


# user, which task, expected status of acknowledge
TASK_CASES = [
    ("police-op", OWN, 200),  # a police operator acknowledges its own agency's task (was 403)
    ("police-op", OTHER, 403),  # ... not the army's
    ("army-op", OTHER, 200),
    ("army-op", OWN, 403),
    ("police-busan-op", OWN, 403),  # same kind, another agency, outside the jurisdiction
    ("jongno-op", OWN, 403),  # the owning center's operator does not act for the police
    ("evaluator-in", OWN, 403),
]


@pytest.mark.parametrize(("username", "which", "status"), TASK_CASES)
def test_task_acknowledge(
    fresh: tuple[HubService, TestClient, World], username: str, which: int, status: int
) -> None:
    hub, client, world = fresh
    task = world.tasks[which]
    response = client.post(
        f"/api/v1/tasks/{task}/state", json={"state": "acknowledged"}, headers=_as(client, hub, username)
    )
    assert response.status_code == status, response.text


def test_own_task_through_to_done_and_decline_needs_a_reason(
    fresh: tuple[HubService, TestClient, World],
) -> None:
    hub, client, world = fresh
    police = _as(client, hub, "police-op")
    url = f"/api/v1/tasks/{world.tasks[OWN]}/state"
    assert client.post(url, json={"state": "acknowledged"}, headers=police).status_code == 200
    assert client.post(url, json={"state": "in_progress"}, headers=police).status_code == 422
    for text in ("patrol on site", "gate checked, nobody"):
        assert (
            client.post(url, json={"state": "in_progress", "reason": text}, headers=police).status_code == 200
        )
    done = client.post(url, json={"state": "done", "reason": "all clear"}, headers=police)
    assert done.status_code == 200 and done.json()["state"] == "done"
    army = _as(client, hub, "army-op")
    other = f"/api/v1/tasks/{world.tasks[OTHER]}/state"
    assert client.post(other, json={"state": "declined"}, headers=army).status_code == 422
    declined = client.post(other, json={"state": "declined", "reason": "no unit free"}, headers=army)
    assert declined.status_code == 200 and declined.json()["state"] == "declined"


# user, condition in force, expected status of closing the incident as a false alarm
CLOSE_CASES = [
    ("police-op", False, 403),
    ("army-op", True, 403),
    ("agency-liaison-in", False, 403),
    ("jongno-op", False, 200),
    ("operator-out", False, 403),
    ("commander-in", False, 200),  # the integrated-defense headquarters owns its area's incidents
]


@pytest.mark.parametrize(("username", "condition", "status"), CLOSE_CASES)
def test_only_the_owning_center_closes(
    fresh: tuple[HubService, TestClient, World], username: str, condition: bool, status: int
) -> None:
    hub, client, world = fresh
    if condition:
        _declare(hub)
    body = {"to": "false_alarm", "reason": "birds"}
    response = client.post(
        f"/api/v1/incidents/{world.incidents[0]}/transitions", json=body, headers=_as(client, hub, username)
    )
    assert response.status_code == status, response.text
    if status == 403:
        assert hub.incidents.get(world.incidents[0]) is not None
        tasks = client.get(
            f"/api/v1/incidents/{world.incidents[0]}/tasks", headers=_as(client, hub, "admin")
        ).json()
        assert {t["state"] for t in tasks} == {"open"}  # a refused close cancels nothing


# user, condition, expected snapshot status (evidence)
EVIDENCE_CASES = [
    ("police-op", False, 200),  # shared with the police
    ("army-op", False, 403),  # the army needs a condition
    ("army-op", True, 200),
    ("police-busan-op", True, 403),  # out of jurisdiction whatever the condition
    ("jongno-op", False, 200),
]


@pytest.mark.parametrize(("username", "condition", "status"), EVIDENCE_CASES)
def test_evidence_by_kind_and_condition(
    fresh: tuple[HubService, TestClient, World], username: str, condition: bool, status: int
) -> None:
    hub, client, world = fresh
    if condition:
        _declare(hub)
    response = client.get(f"/api/v1/snapshots/{world.snapshots[0]}", headers=_as(client, hub, username))
    assert response.status_code == status, response.text
    track = client.get(f"/api/v1/incidents/{world.incidents[0]}/track", headers=_as(client, hub, username))
    assert track.status_code == status


def test_unknown_task_is_404(fresh: tuple[HubService, TestClient, World]) -> None:
    hub, client, _world = fresh
    response = client.post(
        f"/api/v1/tasks/{uuid.uuid4()}/state",
        json={"state": "acknowledged"},
        headers=_as(client, hub, "police-op"),
    )
    assert response.status_code == 404
