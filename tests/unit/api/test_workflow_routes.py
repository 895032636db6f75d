"""Workflow routes: transitions, assignment, notes, attachments, timeline and tasks, with access checks."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hwarang.api.routers import workflow as workflow_router
from hwarang.domain import Agency, AgencyKind, Incident, Role, User
from hwarang.hub.service import HubService
from hwarang.hub.workflow.config import WorkflowConfig
from tests.unit.api.api_support import bearer, login, make_message

PASSWORD = "route-password-123"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
POLICE, ARMY = "police-seoul", "army-52"
_USERS = (
    User(username="cmd", display_name="Commander", agency_code="idhq", roles=(Role.COMMANDER,)),
    User(username="liaison", display_name="Police", agency_code=POLICE, roles=(Role.AGENCY_LIAISON,)),
    User(username="army", display_name="Army", agency_code=ARMY, roles=(Role.AGENCY_LIAISON,)),
    User(
        username="busan",
        display_name="Busan operator",
        agency_code="seoul-jung",
        jurisdiction_code="26",
        roles=(Role.OPERATOR,),
    ),
)


@pytest.fixture
def tokens(
    client: TestClient, hub: HubService, operator_token: str, admin_token: str, viewer_token: str
) -> dict[str, str]:
    """Tokens by user: op1 (operator of the Seoul Jung-gu local government), admin, viewer and _USERS."""
    hub.identity.agencies.upsert(
        [
            Agency(code="seoul-jung", name="Seoul Jung-gu", kind=AgencyKind.LOCAL_GOVERNMENT),
            Agency(code=POLICE, name="Seoul police", kind=AgencyKind.POLICE),
            Agency(code=ARMY, name="52nd division", kind=AgencyKind.MILITARY),
        ]
    )
    out = {"op1": operator_token, "admin": admin_token, "viewer": viewer_token}
    for user in _USERS:
        hub.identity.users.create(user, PASSWORD)
        out[user.username] = login(client, user.username, PASSWORD)
    return out


def _incident(hub: HubService, track: int = 1) -> Incident:
    incident = hub.ingest.event(make_message(track)).incident
    assert incident is not None
    return incident


def _post(client: TestClient, token: str, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=bearer(token))


def _due(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_every_workflow_route_declares_its_action() -> None:
    for route in workflow_router.router.routes:
        actions = [getattr(dep.call, "hwarang_action", None) for dep in route.dependant.dependencies]  # type: ignore[attr-defined]
        assert any(actions), f"{route.path} declares no Action"  # type: ignore[attr-defined]


# -- transitions ----------------------------------------------------------------------------


def test_acknowledge_changes_state_and_reaches_live_clients(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    incident = _incident(hub)
    path = f"/api/v1/incidents/{incident.id}/transitions"
    with client.websocket_connect(f"/api/v1/ws?token={tokens['op1']}") as ws:
        assert ws.receive_json()["type"] == "hello"
        response = _post(client, tokens["op1"], path, {"to": "acknowledged"})
        message = ws.receive_json()

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["seq"] > incident.seq
    assert message["type"] == "incident"
    assert (message["incident"]["id"], message["incident"]["state"]) == (str(incident.id), "acknowledged")
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.actor, audit.action) == ("op1", "incident.transition")


def test_refused_transition_is_409_naming_the_states(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    incident = _incident(hub)
    response = _post(
        client, tokens["op1"], f"/api/v1/incidents/{incident.id}/transitions", {"to": "resolved"}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"incident {incident.id} is new; it cannot go to resolved (allowed: acknowledged, false_alarm)"
    )


def test_closing_without_reason_is_422_and_with_reason_200(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    path = f"/api/v1/incidents/{_incident(hub).id}/transitions"
    missing = _post(client, tokens["op1"], path, {"to": "false_alarm"})
    assert missing.status_code == 422
    assert "needs a reason" in missing.json()["detail"]
    closed = _post(client, tokens["op1"], path, {"to": "false_alarm", "reason": "a plastic bag"})
    assert closed.status_code == 200
    assert closed.json()["resolved_at"] is not None
    unknown = _post(client, tokens["op1"], path, {"to": "sleeping"})
    assert unknown.status_code == 422


def test_reopen_needs_a_commander_and_goes_to_assessing(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    incident = _incident(hub)
    path = f"/api/v1/incidents/{incident.id}/transitions"
    _post(client, tokens["op1"], path, {"to": "false_alarm", "reason": "shadow"})
    reopen = {"to": "assessing", "reason": "seen again", "reopen": True}

    by_operator = _post(client, tokens["op1"], path, reopen)
    wrong_state = _post(client, tokens["cmd"], path, {**reopen, "to": "responding"})
    by_commander = _post(client, tokens["cmd"], path, reopen)

    assert by_operator.status_code == 403
    assert "needs one of the roles" in by_operator.json()["detail"]
    assert wrong_state.status_code == 422
    assert by_commander.status_code == 200
    assert by_commander.json()["state"] == "assessing"


def test_transition_access_is_checked(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    incident = _incident(hub)
    path = f"/api/v1/incidents/{incident.id}/transitions"
    no_token = client.post(path, json={"to": "acknowledged"})
    evaluator = _post(client, tokens["viewer"], path, {"to": "acknowledged"})
    outside = _post(client, tokens["busan"], path, {"to": "acknowledged"})
    missing = _post(
        client, tokens["op1"], f"/api/v1/incidents/{uuid.uuid4()}/transitions", {"to": "acknowledged"}
    )

    assert no_token.status_code == 401
    assert evaluator.status_code == 403
    assert outside.status_code == 403
    assert "outside your jurisdiction" in outside.json()["detail"]
    assert missing.status_code == 404
    assert hub.incidents.get(incident.id).state == "new"  # type: ignore[union-attr]
    assert ("busan", "access.denied") in [(a.actor, a.action) for a in hub.audit.entries(limit=10)]


def test_assign(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    path = f"/api/v1/incidents/{_incident(hub).id}/assign"
    assigned = _post(client, tokens["cmd"], path, {"username": "op1"})
    unknown = _post(client, tokens["cmd"], path, {"username": "nobody"})
    by_liaison = _post(client, tokens["liaison"], path, {"username": "op1"})
    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == "op1"
    assert unknown.status_code == 422
    assert by_liaison.status_code == 403


# -- notes, attachments, timeline -----------------------------------------------------------


def test_notes_round_trip_and_need_access(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    path = f"/api/v1/incidents/{_incident(hub).id}/notes"
    created = _post(client, tokens["op1"], path, {"text": "Patrol dispatched"})
    empty = _post(client, tokens["op1"], path, {"text": ""})
    listed = client.get(path, headers=bearer(tokens["op1"]))
    unshared = client.get(path, headers=bearer(tokens["liaison"]))

    assert created.status_code == 201
    assert (created.json()["author"], created.json()["text"]) == ("op1", "Patrol dispatched")
    assert empty.status_code == 422
    assert [note["text"] for note in listed.json()] == ["Patrol dispatched"]
    assert unshared.status_code == 403


def test_attachment_upload_list_and_audited_download(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    incident = _incident(hub)
    path = f"/api/v1/incidents/{incident.id}/attachments"
    files = {"file": ("../현장 사진.png", PNG, "image/png")}

    uploaded = client.post(path, files=files, headers=bearer(tokens["op1"]))
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert (attachment["filename"], attachment["size"], attachment["content_type"]) == (
        "현장 사진.png",
        len(PNG),
        "image/png",
    )
    assert client.get(path, headers=bearer(tokens["op1"])).json() == [attachment]

    download = client.get(f"{path}/{attachment['id']}", headers=bearer(tokens["cmd"]))
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.actor, audit.action, audit.target) == (
        "cmd",
        "evidence.view",
        f"attachment:{attachment['id']}",
    )
    assert audit.detail["sha256"] == attachment["sha256"]
    assert client.get(f"{path}/{uuid.uuid4()}", headers=bearer(tokens["cmd"])).status_code == 404


def test_bad_uploads_are_413_and_415(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    hub.workflow.config = WorkflowConfig(attachment_max_bytes=32)
    path = f"/api/v1/incidents/{_incident(hub).id}/attachments"
    too_big = client.post(path, files={"file": ("a.png", PNG, "image/png")}, headers=bearer(tokens["op1"]))
    html = client.post(
        path, files={"file": ("a.html", b"<html>", "text/html")}, headers=bearer(tokens["op1"])
    )
    no_file = client.post(path, headers=bearer(tokens["op1"]))
    assert too_big.status_code == 413
    assert "at most 32" in too_big.json()["detail"]
    assert html.status_code == 415
    assert no_file.status_code == 422
    assert client.get(path, headers=bearer(tokens["op1"])).json() == []


def test_military_liaison_sees_a_tasked_incident_but_not_its_evidence(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    incident = _incident(hub)
    base = f"/api/v1/incidents/{incident.id}"
    upload = client.post(
        f"{base}/attachments", files={"file": ("a.png", PNG, "image/png")}, headers=bearer(tokens["op1"])
    )
    task = {"agency_code": ARMY, "title": "Secure the pier", "due_at": _due()}
    assert _post(client, tokens["op1"], f"{base}/tasks", task).status_code == 201

    listing = client.get(f"{base}/attachments", headers=bearer(tokens["army"]))
    evidence = client.get(f"{base}/attachments/{upload.json()['id']}", headers=bearer(tokens["army"]))

    assert listing.status_code == 200
    assert evidence.status_code == 403
    assert "declared condition" in evidence.json()["detail"]


def test_timeline_lists_the_steps(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    incident = _incident(hub)
    base = f"/api/v1/incidents/{incident.id}"
    _post(client, tokens["op1"], f"{base}/transitions", {"to": "acknowledged"})
    _post(client, tokens["op1"], f"{base}/notes", {"text": "checking"})
    timeline = client.get(f"{base}/timeline", headers=bearer(tokens["viewer"]))
    assert timeline.status_code == 200
    steps = [(e["kind"], e["actor"], e["to_state"]) for e in timeline.json()]
    assert steps[-2:] == [("state", "op1", "acknowledged"), ("note", "op1", None)]


# -- tasks ----------------------------------------------------------------------------------


def test_task_lifecycle_through_the_api(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    incident = _incident(hub)
    base = f"/api/v1/incidents/{incident.id}"
    assert client.get(f"{base}/tasks", headers=bearer(tokens["liaison"])).status_code == 403

    created = _post(
        client,
        tokens["op1"],
        f"{base}/tasks",
        {"agency_code": POLICE, "unit": "Jung station", "title": "Block road", "due_at": _due()},
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert hub.incidents.get(incident.id).shared_with == (POLICE,)  # type: ignore[union-attr]
    assert [t["id"] for t in client.get(f"{base}/tasks", headers=bearer(tokens["liaison"])).json()] == [
        task["id"]
    ]
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=bearer(tokens["liaison"])).json()] == [
        task["id"]
    ]

    state = f"/api/v1/tasks/{task['id']}/state"
    skip = _post(client, tokens["liaison"], state, {"state": "done"})
    acked = _post(client, tokens["liaison"], state, {"state": "acknowledged", "reason": "en route"})
    done = _post(client, tokens["liaison"], state, {"state": "done"})
    by_operator = _post(client, tokens["op1"], state, {"state": "cancelled"})

    assert skip.status_code == 409
    assert "allowed: acknowledged, cancelled" in skip.json()["detail"]
    assert acked.json()["state"] == "acknowledged"
    assert done.json()["state"] == "done"
    assert by_operator.status_code == 403, "operators may create tasks but not update them"
    assert (
        _post(client, tokens["liaison"], f"/api/v1/tasks/{uuid.uuid4()}/state", {"state": "done"}).status_code
        == 404
    )


def test_liaison_cannot_update_another_agencys_task(
    client: TestClient, hub: HubService, tokens: dict[str, str]
) -> None:
    base = f"/api/v1/incidents/{_incident(hub).id}"
    police = _post(
        client, tokens["op1"], f"{base}/tasks", {"agency_code": POLICE, "title": "A", "due_at": _due()}
    )
    _post(client, tokens["op1"], f"{base}/tasks", {"agency_code": ARMY, "title": "B", "due_at": _due()})

    response = _post(
        client, tokens["army"], f"/api/v1/tasks/{police.json()['id']}/state", {"state": "acknowledged"}
    )

    assert response.status_code == 403
    assert "belongs to another agency" in response.json()["detail"]
    assert POLICE not in response.json()["detail"]  # a refusal does not say whose task it is


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"agency_code": "nowhere", "title": "A", "due_at": _due()}, "not registered"),
        ({"agency_code": POLICE, "title": "A", "due_at": "2020-01-01T00:00:00Z"}, "after now"),
        ({"agency_code": POLICE, "title": "A", "due_at": "2030-01-01T00:00:00"}, "timezone"),
        ({"agency_code": "Bad Code", "title": "A", "due_at": _due()}, "agency_code"),
    ],
)
def test_bad_task_requests_are_422(
    client: TestClient, hub: HubService, tokens: dict[str, str], body: dict[str, str], fragment: str
) -> None:
    response = _post(client, tokens["op1"], f"/api/v1/incidents/{_incident(hub).id}/tasks", body)
    assert response.status_code == 422
    assert fragment in response.text


def test_task_list_scope_by_role(client: TestClient, hub: HubService, tokens: dict[str, str]) -> None:
    base = f"/api/v1/incidents/{_incident(hub).id}"
    for agency in (POLICE, ARMY):
        _post(
            client, tokens["op1"], f"{base}/tasks", {"agency_code": agency, "title": agency, "due_at": _due()}
        )

    def titles(token: str, query: str = "") -> list[str] | int:
        response = client.get(f"/api/v1/tasks{query}", headers=bearer(token))
        return (
            sorted(t["title"] for t in response.json())
            if response.status_code == 200
            else response.status_code
        )

    assert titles(tokens["liaison"]) == [POLICE]
    assert titles(tokens["army"]) == [ARMY]
    assert titles(tokens["liaison"], f"?agency_code={ARMY}") == 403
    assert titles(tokens["cmd"]) == [ARMY, POLICE]
    assert titles(tokens["cmd"], f"?agency_code={ARMY}") == [ARMY]
    assert titles(tokens["admin"]) == [ARMY, POLICE]
    assert titles(tokens["busan"]) == []
