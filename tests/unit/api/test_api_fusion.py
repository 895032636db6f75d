"""``POST /api/v1/incidents/{id}/merge`` and ``/split``: commanders regroup incidents, with a reason."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hwarang.domain import Agency, AgencyKind, Incident, Role, User
from hwarang.hub.service import HubService
from hwarang.hub.store.models import IncidentHistoryRow, IncidentRow
from tests.unit.api.api_support import bearer, login, make_message

COMMANDER_PASSWORD = "commander-password-321"


@pytest.fixture
def commander_token(hub: HubService, client: TestClient) -> str:
    """A token of a commander of the Seoul Jung-gu local government."""
    user = User(username="cmdr", display_name="cmdr", agency_code="seoul-jung", roles=(Role.COMMANDER,))
    hub.identity.users.create(user, COMMANDER_PASSWORD)
    return login(client, "cmdr", COMMANDER_PASSWORD)


def _incidents(hub: HubService, *tracks: int) -> list[Incident]:
    """One incident per event (the API fixture's hub does not fuse)."""
    found = []
    for track in tracks:
        incident = hub.ingest.event(make_message(track)).incident
        assert incident is not None
        found.append(incident)
    return found


def test_merge_moves_every_event_into_the_target(
    hub: HubService, client: TestClient, commander_token: str
) -> None:
    target, a, b = _incidents(hub, 1, 2, 3)
    body = {"source_ids": [str(a.id), str(b.id)], "reason": "one group of intruders"}
    response = client.post(f"/api/v1/incidents/{target.id}/merge", json=body, headers=bearer(commander_token))
    assert response.status_code == 200, response.text
    merged = Incident.model_validate(response.json())
    assert set(merged.event_ids) == {*target.event_ids, *a.event_ids, *b.event_ids}
    assert merged.seq > max(i.seq for i in (target, a, b))
    for source in (a, b):
        stored = hub.incidents.get(source.id)
        assert stored is not None and stored.merged_into == target.id and stored.event_ids == ()
    with hub.database.session() as session:
        stmt = select(IncidentHistoryRow.kind, IncidentHistoryRow.actor, IncidentHistoryRow.detail)
        rows = list(session.execute(stmt.where(IncidentHistoryRow.incident_id == target.id)))
    assert [(kind, actor, detail["reason"]) for kind, actor, detail in rows] == [
        ("merge", "cmdr", "one group of intruders")
    ]
    audits = [(e.actor, e.action, e.target) for e in hub.audit.entries(10)]
    assert ("cmdr", "incident.merge", str(target.id)) in audits
    assert ("cmdr", "incident.merge", str(a.id)) in audits


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "into itself"),
        ("resolved", "is resolved"),
        ("merged", "was merged into"),
    ],
)
def test_merge_refusals_are_409_with_the_reason(
    hub: HubService, client: TestClient, commander_token: str, case: str, message: str
) -> None:
    target, source, third = _incidents(hub, 1, 2, 3)
    if case == "itself":
        source = target
    elif case == "resolved":
        with hub.database.session(write=True) as session:
            stmt = update(IncidentRow).where(IncidentRow.id == source.id)
            session.execute(stmt.values(state="resolved", seq=hub.journal.next_seq(session)))
    else:
        hub.ingest.merge(third.id, [source.id], "earlier merge", "cmdr")
    body = {"source_ids": [str(source.id)], "reason": "why not"}
    response = client.post(f"/api/v1/incidents/{target.id}/merge", json=body, headers=bearer(commander_token))
    assert response.status_code == 409, response.text
    assert message in response.json()["detail"]


def test_split_moves_events_into_a_new_incident(
    hub: HubService, client: TestClient, commander_token: str
) -> None:
    target, a, b = _incidents(hub, 1, 2, 3)
    merged = hub.ingest.merge(target.id, [a.id, b.id], "looked like one", "cmdr")
    moving = [str(a.event_ids[0]), str(b.event_ids[0])]
    body = {"event_ids": moving, "reason": "two other people"}
    response = client.post(f"/api/v1/incidents/{merged.id}/split", json=body, headers=bearer(commander_token))
    assert response.status_code == 200, response.text
    rest = Incident.model_validate(response.json()["incident"])
    new = Incident.model_validate(response.json()["split_off"])
    assert rest.id == target.id and rest.event_ids == target.event_ids
    assert sorted(map(str, new.event_ids)) == sorted(moving)
    assert new.seq > rest.seq > merged.seq
    assert (new.first_seen, new.last_seen) == (a.first_seen, b.last_seen)
    audits = [(e.action, e.target) for e in hub.audit.entries(10)]
    assert ("incident.split", str(target.id)) in audits and ("incident.split", str(new.id)) in audits


@pytest.mark.parametrize(
    ("events", "message"),
    [("foreign", "are not in incident"), ("all", "cannot split off all")],
)
def test_split_refusals_are_409_with_the_reason(
    hub: HubService, client: TestClient, commander_token: str, events: str, message: str
) -> None:
    target, other = _incidents(hub, 1, 2)
    ids = [str(other.event_ids[0])] if events == "foreign" else [str(e) for e in target.event_ids]
    body = {"event_ids": ids, "reason": "because"}
    response = client.post(f"/api/v1/incidents/{target.id}/split", json=body, headers=bearer(commander_token))
    assert response.status_code == 409, response.text
    assert message in response.json()["detail"]


def test_operators_may_not_merge_and_nobody_without_need_to_know(
    hub: HubService, client: TestClient, operator_token: str, commander_token: str
) -> None:
    target, source = _incidents(hub, 1, 2)
    body = {"source_ids": [str(source.id)], "reason": "r"}
    denied = client.post(f"/api/v1/incidents/{target.id}/merge", json=body, headers=bearer(operator_token))
    assert denied.status_code == 403
    hub.identity.agencies.upsert([Agency(code="busan-cc", name="부산", kind=AgencyKind.LOCAL_GOVERNMENT)])
    outsider = User(
        username="busan",
        display_name="b",
        agency_code="busan-cc",
        jurisdiction_code="26",
        roles=(Role.COMMANDER,),
    )
    hub.identity.users.create(outsider, COMMANDER_PASSWORD)
    token = login(client, "busan", COMMANDER_PASSWORD)
    response = client.post(f"/api/v1/incidents/{target.id}/merge", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert "outside your jurisdiction" in response.json()["detail"]
    split = {"event_ids": [str(target.event_ids[0])], "reason": "r"}
    assert (
        client.post(f"/api/v1/incidents/{target.id}/split", json=split, headers=bearer(token)).status_code
        == 403
    )
    missing = client.post(
        f"/api/v1/incidents/{uuid.uuid4()}/merge", json=body, headers=bearer(commander_token)
    )
    assert missing.status_code == 404
    assert hub.incidents.get(source.id) == source, "nothing changed"


def test_requests_need_a_reason_and_ids(client: TestClient, commander_token: str) -> None:
    url = f"/api/v1/incidents/{uuid.uuid4()}"
    assert (
        client.post(
            url + "/merge", json={"source_ids": [], "reason": "r"}, headers=bearer(commander_token)
        ).status_code
        == 422
    )
    assert (
        client.post(
            url + "/split", json={"event_ids": [str(uuid.uuid4())]}, headers=bearer(commander_token)
        ).status_code
        == 422
    )
