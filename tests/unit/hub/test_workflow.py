"""The incident state machine and the incident-level workflow: assignment, notes, timeline."""

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from hwarang.domain import IncidentState, TaskState
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.sharing.policy import AccessDeniedError
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentRow
from hwarang.hub.workflow.service import InvalidTransitionError, WorkflowInputError, WorkflowService
from hwarang.hub.workflow.states import INCIDENT_TRANSITIONS, REASON_REQUIRED, TERMINAL_STATES
from tests.hub_support import FAST_HASHER
from tests.unit.hub.workflow_support import (
    NOW,
    USERS,
    Clock,
    Seen,
    drive_to,
    fresh_incident,
    history,
    path_to,
    prepare_hub,
    workflow_of,
)

S = IncidentState
PAIRS = list(itertools.product(S, S))
ALLOWED = [(a, b) for a, b in PAIRS if b in INCIDENT_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in INCIDENT_TRANSITIONS[a]]


def _ids(pair: tuple[S, S]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubService]:
    """One hub for the table-driven tests (each test works on its own incident)."""
    root = tmp_path_factory.mktemp("workflow")
    database = Database(f"sqlite:///{root / 'hub.sqlite3'}")
    database.migrate()
    service = HubService(database, EvidenceStore(root / "evidence"), password_hasher=FAST_HASHER)
    prepare_hub(service)
    yield service
    database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workflow(hub: HubService, clock: Clock) -> WorkflowService:
    return workflow_of(hub, clock)


# -- the table ------------------------------------------------------------------------------


def test_table_covers_every_state_and_false_alarm_is_reachable_from_every_open_state() -> None:
    assert set(INCIDENT_TRANSITIONS) == set(S)
    assert {S.RESOLVED, S.FALSE_ALARM} == TERMINAL_STATES
    for state in set(S) - TERMINAL_STATES:
        assert S.FALSE_ALARM in INCIDENT_TRANSITIONS[state], state
    assert {a for a, b in ALLOWED if b is S.RESOLVED} == {S.ASSESSING, S.RESPONDING}
    assert {a for a, b in ALLOWED if b is S.ACKNOWLEDGED} == {S.NEW}
    assert all(a is not b for a, b in ALLOWED), "no state moves to itself"


@pytest.mark.parametrize("pair", ALLOWED, ids=_ids)
def test_allowed_transition_changes_state_seq_history_audit_and_notifies(
    hub: HubService, workflow: WorkflowService, clock: Clock, pair: tuple[S, S]
) -> None:
    current, requested = pair
    incident = fresh_incident(hub)
    before = drive_to(workflow, incident.id, current) or incident
    seen = Seen()
    hub.journal.add_listener(seen)
    clock.advance(60)
    reason = f"because {requested.value}"

    after = workflow.transition(incident.id, requested, "op", reason)

    assert after.state is requested
    assert after.seq > before.seq
    assert after.seq == hub.journal.last_seq()
    assert after.updated_at == clock.now
    assert hub.incidents.get(incident.id) == after
    assert seen.incidents[-1] == after
    step = history(hub, incident.id)[-1]
    assert (step.kind, step.actor, step.from_state, step.to_state) == ("state", "op", current, requested)
    assert step.detail["reason"] == reason
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.actor, audit.action, audit.target) == (
        "op",
        "incident.transition",
        f"incident:{incident.id}",
    )
    assert (audit.detail["from"], audit.detail["to"], audit.detail["seq"]) == (current, requested, after.seq)


@pytest.mark.parametrize("pair", REFUSED, ids=_ids)
def test_refused_transition_names_states_and_changes_nothing(
    hub: HubService, workflow: WorkflowService, pair: tuple[S, S]
) -> None:
    current, requested = pair
    incident = fresh_incident(hub)
    before = drive_to(workflow, incident.id, current) or incident
    steps = len(history(hub, incident.id))

    with pytest.raises(InvalidTransitionError) as caught:
        workflow.transition(incident.id, requested, "op", "a reason")

    error = caught.value
    assert isinstance(error, ConflictError)
    assert (error.current, error.requested) == (current.value, requested.value)
    assert set(error.allowed) == {s.value for s in INCIDENT_TRANSITIONS[current]}
    message = str(error)
    assert f"is {current.value}" in message
    assert f"cannot go to {requested.value}" in message
    for allowed in error.allowed:
        assert allowed in message
    if current in TERMINAL_STATES:
        assert "reopen" in message
    assert hub.incidents.get(incident.id) == before
    assert len(history(hub, incident.id)) == steps


def test_every_state_is_reachable_from_new() -> None:
    assert path_to(S.NEW) == []
    for state in set(S) - {S.NEW}:
        assert path_to(state)[-1] is state


# -- reasons, timestamps, reopen ------------------------------------------------------------


@pytest.mark.parametrize("closing", sorted(REASON_REQUIRED))
@pytest.mark.parametrize("reason", ["", "   "])
def test_closing_needs_a_reason(hub: HubService, workflow: WorkflowService, closing: S, reason: str) -> None:
    incident = fresh_incident(hub)
    drive_to(workflow, incident.id, S.ASSESSING)
    with pytest.raises(WorkflowInputError, match=f"as {closing.value} needs a reason"):
        workflow.transition(incident.id, closing, "op", reason)
    assert hub.incidents.get(incident.id).state is S.ASSESSING  # type: ignore[union-attr]


def test_overlong_reason_is_refused(hub: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(hub)
    with pytest.raises(WorkflowInputError, match="at most 2000"):
        workflow.transition(incident.id, S.ACKNOWLEDGED, "op", "x" * 2001)


def test_acknowledged_at_is_set_once_and_resolved_at_on_closing(
    hub: HubService, workflow: WorkflowService, clock: Clock
) -> None:
    incident = fresh_incident(hub)
    assert incident.acknowledged_at is None
    acked = workflow.transition(incident.id, S.ACKNOWLEDGED, "op")
    assert acked.acknowledged_at == NOW
    assert acked.resolved_at is None
    clock.advance(120)
    assessing = workflow.transition(incident.id, S.ASSESSING, "op")
    assert assessing.acknowledged_at == NOW
    clock.advance(120)
    resolved = workflow.transition(incident.id, S.RESOLVED, "op", "intruder left, area checked")
    assert resolved.resolved_at == NOW + timedelta(seconds=240)
    assert resolved.acknowledged_at == NOW


def test_false_alarm_straight_from_new_counts_as_acknowledged(
    hub: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(hub)
    closed = workflow.transition(incident.id, S.FALSE_ALARM, "op", "a cat")
    assert closed.acknowledged_at == NOW
    assert closed.resolved_at == NOW


@pytest.mark.parametrize("closed", sorted(TERMINAL_STATES))
def test_commander_reopens_a_closed_incident_to_assessing(
    hub: HubService, workflow: WorkflowService, clock: Clock, closed: S
) -> None:
    incident = fresh_incident(hub)
    before = drive_to(workflow, incident.id, closed)
    assert before is not None and before.resolved_at is not None
    clock.advance(30)

    reopened = workflow.reopen(incident.id, USERS["cmd"], "second intrusion on the same fence")

    assert reopened.state is S.ASSESSING
    assert reopened.resolved_at is None
    assert reopened.seq > before.seq
    step = history(hub, incident.id)[-1]
    assert (step.kind, step.actor, step.from_state, step.to_state) == ("state", "cmd", closed, S.ASSESSING)
    assert step.detail["reopen"] is True
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.action, audit.detail["reopen"]) == ("incident.transition", True)
    assert workflow.transition(incident.id, S.RESPONDING, "op").state is S.RESPONDING


def test_reopen_is_refused_to_operators_without_reason_and_on_open_incidents(
    hub: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(hub)
    drive_to(workflow, incident.id, S.RESOLVED)
    with pytest.raises(AccessDeniedError, match="needs one of the roles admin, commander"):
        workflow.reopen(incident.id, USERS["op"], "I want it back")
    with pytest.raises(WorkflowInputError, match="needs a reason"):
        workflow.reopen(incident.id, USERS["cmd"], " ")
    other = fresh_incident(hub)
    drive_to(workflow, other.id, S.ACKNOWLEDGED)
    with pytest.raises(ConflictError, match="is acknowledged, not closed"):
        workflow.reopen(other.id, USERS["cmd"], "why not")
    assert hub.incidents.get(incident.id).state is S.RESOLVED  # type: ignore[union-attr]


def test_closing_cancels_open_tasks_but_not_done_ones(
    hub: HubService, workflow: WorkflowService, clock: Clock
) -> None:
    incident = fresh_incident(hub)
    drive_to(workflow, incident.id, S.RESPONDING)
    due = clock.now + timedelta(minutes=30)
    open_task = workflow.tasks.create_task(incident.id, "police-seoul", "Block the road", due, "op")
    done_task = workflow.tasks.create_task(incident.id, "police-seoul", "Check cameras", due, "op")
    workflow.tasks.update_task_state(done_task.id, TaskState.ACKNOWLEDGED, USERS["liaison"])
    workflow.tasks.update_task_state(done_task.id, TaskState.DONE, USERS["liaison"])

    workflow.transition(incident.id, S.RESOLVED, "cmd", "suspect detained")

    states = {task.id: task.state for task in workflow.tasks.list_tasks(incident.id)}
    assert states == {open_task.id: TaskState.CANCELLED, done_task.id: TaskState.DONE}
    state_step = [row for row in history(hub, incident.id) if row.kind == "state"][-1]
    assert state_step.detail["cancelled_tasks"] == [str(open_task.id)]
    cancel = [row for row in history(hub, incident.id) if row.kind == "task.state"][-1]
    assert (cancel.from_state, cancel.to_state, cancel.actor) == ("open", "cancelled", "cmd")


def test_missing_and_merged_incidents_are_refused(hub: HubService, workflow: WorkflowService) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        workflow.transition(uuid.uuid4(), S.ACKNOWLEDGED, "op")
    incident, survivor = fresh_incident(hub), fresh_incident(hub)
    with hub.database.session(write=True) as session:
        session.execute(
            update(IncidentRow).where(IncidentRow.id == incident.id).values(merged_into=survivor.id)
        )
    with pytest.raises(ConflictError, match=f"merged into {survivor.id}"):
        workflow.transition(incident.id, S.ACKNOWLEDGED, "op")
    with pytest.raises(ConflictError, match="merged"):
        workflow.add_note(incident.id, "op", "hello")


def test_hub_service_carries_a_workflow_with_its_config(hub: HubService) -> None:
    assert isinstance(hub.workflow, WorkflowService)
    incident = fresh_incident(hub)
    assert hub.workflow.transition(incident.id, S.ACKNOWLEDGED, "op").state is S.ACKNOWLEDGED


# -- assignment -----------------------------------------------------------------------------


def test_assign_sets_assignee_with_new_seq_history_and_audit(
    hub: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(hub)
    assigned = workflow.assign(incident.id, "op", "cmd")
    assert assigned.assignee == "op"
    assert assigned.seq > incident.seq
    step = history(hub, incident.id)[-1]
    assert (step.kind, step.actor, step.detail) == ("assign", "cmd", {"from": None, "to": "op"})
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.action, audit.detail) == ("incident.assign", {"from": None, "to": "op"})

    again = workflow.assign(incident.id, "op", "cmd")
    assert again.seq == assigned.seq, "assigning the same user again changes nothing"
    cleared = workflow.assign(incident.id, None, "cmd")
    assert cleared.assignee is None
    assert cleared.seq > assigned.seq


def test_assign_refuses_unknown_users_and_users_who_may_not_handle_it(
    hub: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(hub)
    with pytest.raises(WorkflowInputError, match="no enabled user 'ghost'"):
        workflow.assign(incident.id, "ghost", "cmd")
    with pytest.raises(WorkflowInputError, match="outside your jurisdiction"):
        workflow.assign(incident.id, "op-busan", "cmd")
    with pytest.raises(WorkflowInputError, match="may not handle it"):
        workflow.assign(incident.id, "liaison", "cmd")
    assert hub.incidents.get(incident.id).assignee is None  # type: ignore[union-attr]


def test_closed_incident_is_not_reassigned(hub: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(hub)
    drive_to(workflow, incident.id, S.FALSE_ALARM)
    with pytest.raises(ConflictError, match="reopen it before reassigning"):
        workflow.assign(incident.id, "op", "cmd")


# -- notes and timeline ---------------------------------------------------------------------


def test_notes_are_kept_in_order_with_history_and_audit(
    hub: HubService, workflow: WorkflowService, clock: Clock
) -> None:
    incident = fresh_incident(hub)
    first = workflow.add_note(incident.id, "op", "  Person climbing the north fence  ")
    clock.advance(5)
    second = workflow.add_note(incident.id, "liaison", "Patrol car 12 on the way")

    notes = workflow.list_notes(incident.id)
    assert notes == [first, second]
    assert first.text == "Person climbing the north fence"
    assert (second.author, second.at) == ("liaison", NOW + timedelta(seconds=5))
    assert [row.kind for row in history(hub, incident.id)][-2:] == ["note", "note"]
    audit = hub.audit.entries(limit=1)[0]
    assert (audit.actor, audit.action, audit.detail["note_id"]) == ("liaison", "incident.note", second.id)
    assert hub.incidents.get(incident.id).seq == incident.seq, "a note does not change the incident"  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "   ", "x" * 8001])
def test_empty_or_overlong_note_is_refused(hub: HubService, workflow: WorkflowService, text: str) -> None:
    incident = fresh_incident(hub)
    with pytest.raises(WorkflowInputError, match="1 to 8000"):
        workflow.add_note(incident.id, "op", text)
    assert workflow.list_notes(incident.id) == []


def test_note_on_a_closed_incident_is_allowed(hub: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(hub)
    drive_to(workflow, incident.id, S.RESOLVED)
    assert workflow.add_note(incident.id, "cmd", "After-action: fence repaired").incident_id == incident.id


def test_timeline_lists_every_step_in_order(hub: HubService, workflow: WorkflowService, clock: Clock) -> None:
    incident = fresh_incident(hub)
    workflow.transition(incident.id, S.ACKNOWLEDGED, "op")
    clock.advance(10)
    workflow.assign(incident.id, "op", "cmd")
    clock.advance(10)
    workflow.add_note(incident.id, "op", "checking")
    clock.advance(10)
    workflow.transition(incident.id, S.FALSE_ALARM, "op", "shadow")

    everything = workflow.timeline(incident.id)
    # Ingest and fusion record their own steps (at the real time); keep the people's.
    timeline = [e for e in everything if not e.actor.startswith("system:")]

    assert [(e.kind, e.actor, e.from_state, e.to_state) for e in timeline] == [
        ("state", "op", "new", "acknowledged"),
        ("assign", "cmd", None, None),
        ("note", "op", None, None),
        ("state", "op", "acknowledged", "false_alarm"),
    ]
    assert [e.at for e in timeline] == [NOW + timedelta(seconds=10 * i) for i in range(4)]
    assert all(e.incident_id == incident.id for e in timeline)
    assert timeline[-1].detail["reason"] == "shadow"
    assert workflow.timeline(uuid.uuid4()) == []
