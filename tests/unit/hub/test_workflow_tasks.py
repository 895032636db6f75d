"""Tasks: creation shares the incident with the agency; the task state machine; listing."""

import itertools
import uuid
from datetime import timedelta

import pytest

from hwarang.domain import IncidentState, TaskState
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.service import HubService
from hwarang.hub.sharing.policy import AccessDeniedError, Action
from hwarang.hub.workflow.service import InvalidTransitionError, WorkflowInputError, WorkflowService
from hwarang.hub.workflow.states import TASK_TRANSITIONS
from tests.unit.hub.workflow_support import (
    ARMY,
    NOW,
    POLICE,
    USERS,
    Clock,
    Seen,
    drive_to,
    fresh_incident,
    history,
    prepare_hub,
    workflow_of,
)

DUE = NOW + timedelta(minutes=30)
T = TaskState
TASK_PAIRS = list(itertools.product(T, T))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workflow(service: HubService, clock: Clock) -> WorkflowService:
    prepare_hub(service)
    return workflow_of(service, clock)


def test_tasking_an_agency_shares_the_incident_with_it(
    service: HubService, workflow: WorkflowService, clock: Clock
) -> None:
    incident = fresh_incident(service)
    seen = Seen()
    service.journal.add_listener(seen)
    liaison = USERS["army-liaison"]
    assert not service.sharing.decide(liaison, Action.INCIDENT_VIEW, incident).allowed

    task = workflow.tasks.create_task(
        incident.id, ARMY, "  Secure the pier  ", DUE, "op", unit="3rd battalion", instructions="Two squads"
    )

    assert (task.agency_code, task.unit, task.title, task.instructions) == (
        ARMY,
        "3rd battalion",
        "Secure the pier",
        "Two squads",
    )
    assert (task.state, task.due_at, task.created_by, task.created_at) == (T.OPEN, DUE, "op", NOW)
    shared = service.incidents.get(incident.id)
    assert shared is not None
    assert shared.shared_with == (ARMY,)
    assert shared.seq > incident.seq
    assert seen.incidents == [shared]
    assert service.sharing.decide(liaison, Action.INCIDENT_VIEW, shared).allowed
    kinds = [row.kind for row in history(service, incident.id)]
    assert kinds[-2:] == ["task.created", "share"]
    actions = [(a.action, a.target) for a in service.audit.entries(limit=2)]
    assert ("task.create", f"task:{task.id}") in actions
    assert ("incident.share", f"incident:{incident.id}") in actions

    clock.advance(1)
    second = workflow.tasks.create_task(incident.id, ARMY, "Report back", DUE, "op")
    assert service.incidents.get(incident.id) == shared, "already shared: the incident does not change"
    assert workflow.tasks.list_tasks(incident.id) == [task, second]


@pytest.mark.parametrize(
    ("agency", "due_offset_s", "title", "message"),
    [
        ("coast-guard", 600, "Search", "agency 'coast-guard' is not registered"),
        (POLICE, 0, "Search", "must be a time with a zone after now"),
        (POLICE, -60, "Search", "must be a time with a zone after now"),
        (POLICE, 600, "   ", "at least 1 character"),
    ],
)
def test_bad_task_requests_are_refused(
    service: HubService, workflow: WorkflowService, agency: str, due_offset_s: int, title: str, message: str
) -> None:
    incident = fresh_incident(service)
    with pytest.raises(WorkflowInputError, match=message):
        workflow.tasks.create_task(incident.id, agency, title, NOW + timedelta(seconds=due_offset_s), "op")
    assert workflow.tasks.list_tasks(incident.id) == []


def test_naive_due_time_is_refused(service: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(service)
    with pytest.raises(WorkflowInputError, match="with a zone"):
        workflow.tasks.create_task(incident.id, POLICE, "Search", DUE.replace(tzinfo=None), "op")


def test_closed_or_missing_incident_cannot_be_tasked(service: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(service)
    drive_to(workflow, incident.id, IncidentState.FALSE_ALARM)
    with pytest.raises(ConflictError, match="reopen it before tasking"):
        workflow.tasks.create_task(incident.id, POLICE, "Search", DUE, "op")
    with pytest.raises(NotFoundError):
        workflow.tasks.create_task(uuid.uuid4(), POLICE, "Search", DUE, "op")


def _task_in(workflow: WorkflowService, service: HubService, state: TaskState) -> uuid.UUID:
    task = workflow.tasks.create_task(fresh_incident(service).id, POLICE, "Search", DUE, "op")
    path = {
        T.OPEN: [],
        T.ACKNOWLEDGED: [T.ACKNOWLEDGED],
        T.DONE: [T.ACKNOWLEDGED, T.DONE],
        T.CANCELLED: [T.CANCELLED],
        T.IN_PROGRESS: [T.ACKNOWLEDGED, T.IN_PROGRESS],
        T.DECLINED: [T.DECLINED],
    }[state]
    for step in path:
        workflow.tasks.update_task_state(task.id, step, USERS["liaison"], "on it")
    return task.id


@pytest.mark.parametrize("pair", TASK_PAIRS, ids=lambda p: f"{p[0].value}->{p[1].value}")
def test_task_state_machine(
    service: HubService, workflow: WorkflowService, clock: Clock, pair: tuple[TaskState, TaskState]
) -> None:
    current, requested = pair
    task_id = _task_in(workflow, service, current)
    clock.advance(60)
    if requested in TASK_TRANSITIONS[current]:
        task = workflow.tasks.update_task_state(task_id, requested, USERS["liaison"], "on it")
        assert (task.state, task.updated_at) == (requested, clock.now)
        step = history(service, task.incident_id)[-1]
        assert (step.kind, step.from_state, step.to_state) == ("task.state", current, requested)
        assert (step.actor, step.detail["reason"]) == ("liaison", "on it")
        audit = service.audit.entries(limit=1)[0]
        assert (audit.action, audit.target, audit.detail["to"]) == (
            "task.update",
            f"task:{task_id}",
            requested,
        )
    else:
        with pytest.raises(InvalidTransitionError, match=f"task {task_id} is {current.value}") as caught:
            workflow.tasks.update_task_state(task_id, requested, USERS["liaison"])
        assert set(caught.value.allowed) == {s.value for s in TASK_TRANSITIONS[current]}
        assert workflow.tasks.get_task(task_id).state is current


def test_liaison_updates_only_own_agency_tasks_commander_any(
    service: HubService, workflow: WorkflowService
) -> None:
    task_id = _task_in(workflow, service, T.OPEN)
    with pytest.raises(
        AccessDeniedError, match=f"belongs to another agency; you may update only tasks of {ARMY}"
    ):
        workflow.tasks.update_task_state(task_id, T.ACKNOWLEDGED, USERS["army-liaison"])
    assert workflow.tasks.get_task(task_id).state is T.OPEN
    assert workflow.tasks.update_task_state(task_id, T.CANCELLED, USERS["cmd"]).state is T.CANCELLED


def test_unknown_task_is_not_found(workflow: WorkflowService) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        workflow.tasks.update_task_state(uuid.uuid4(), T.DONE, USERS["cmd"])
    with pytest.raises(NotFoundError):
        workflow.tasks.get_task(uuid.uuid4())


def test_agency_task_lists(service: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(service)
    later = workflow.tasks.create_task(incident.id, POLICE, "Later", DUE + timedelta(hours=1), "op")
    sooner = workflow.tasks.create_task(incident.id, POLICE, "Sooner", DUE, "op")
    army = workflow.tasks.create_task(incident.id, ARMY, "Army", DUE + timedelta(minutes=5), "op")
    workflow.tasks.update_task_state(later.id, T.CANCELLED, USERS["liaison"])

    police = workflow.tasks.list_agency_tasks(POLICE)
    assert [task.id for task in police] == [sooner.id, later.id]
    assert [task.id for task in workflow.tasks.list_agency_tasks(POLICE, open_only=True)] == [sooner.id]
    assert [task.id for task in workflow.tasks.list_agency_tasks(None)] == [sooner.id, army.id, later.id]
    assert len(workflow.tasks.list_agency_tasks(None, limit=1)) == 1
