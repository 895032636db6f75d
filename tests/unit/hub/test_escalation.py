"""Escalation of overdue tasks (injectable clock) and the background loop that runs it."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hwarang.config import AppConfig
from hwarang.domain import IncidentState, Severity, TaskState
from hwarang.hub.service import HubService
from hwarang.hub.store.models import IncidentRow
from hwarang.hub.workflow.escalation import EscalationLoop
from hwarang.hub.workflow.service import WorkflowService
from hwarang.hub.workflow.tasks import ESCALATION_ACTOR, raised
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

DUE = NOW + timedelta(minutes=10)
REPEAT_S = 300.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workflow(service: HubService, clock: Clock) -> WorkflowService:
    prepare_hub(service)
    return workflow_of(service, clock, escalation_repeat_s=REPEAT_S)


def test_severity_rises_one_step_up_to_critical() -> None:
    assert [raised(s) for s in Severity] == [
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
        Severity.CRITICAL,
    ]


def test_nothing_is_escalated_before_the_due_time(service: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(service)
    workflow.tasks.create_task(incident.id, POLICE, "Search", DUE, "op")
    assert workflow.tasks.escalate_overdue(DUE - timedelta(seconds=1)) == []
    assert workflow.tasks.list_tasks(incident.id)[0].escalation_level == 0


def test_overdue_task_is_escalated_and_raises_the_incident_severity(
    service: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(service)
    assert incident.severity is Severity.HIGH
    task = workflow.tasks.create_task(incident.id, POLICE, "Search", DUE, "op")
    before = service.incidents.get(incident.id)
    assert before is not None
    seen = Seen()
    service.journal.add_listener(seen)

    escalated = workflow.tasks.escalate_overdue(DUE)

    assert [(t.id, t.escalation_level, t.escalated_at) for t in escalated] == [(task.id, 1, DUE)]
    assert workflow.tasks.get_task(task.id) == escalated[0]
    after = service.incidents.get(incident.id)
    assert after is not None
    assert after.severity is Severity.CRITICAL
    assert after.seq > before.seq
    assert seen.incidents == [after]
    steps = history(service, incident.id)[-2:]
    assert [(s.kind, s.actor) for s in steps] == [
        ("task.escalated", ESCALATION_ACTOR),
        ("severity", ESCALATION_ACTOR),
    ]
    assert steps[0].detail["level"] == 1
    assert (steps[1].detail["from"], steps[1].detail["to"]) == ("high", "critical")
    actions = {(a.action, a.target) for a in service.audit.entries(limit=2)}
    assert actions == {("task.escalate", f"task:{task.id}"), ("incident.severity", f"incident:{incident.id}")}


def test_repeat_escalation_waits_a_full_period(service: HubService, workflow: WorkflowService) -> None:
    incident = fresh_incident(service)
    task = workflow.tasks.create_task(incident.id, POLICE, "Search", DUE, "op")
    assert len(workflow.tasks.escalate_overdue(DUE + timedelta(seconds=1))) == 1
    assert workflow.tasks.escalate_overdue(DUE + timedelta(seconds=REPEAT_S)) == []
    second = workflow.tasks.escalate_overdue(DUE + timedelta(seconds=1 + REPEAT_S))
    assert [(t.id, t.escalation_level) for t in second] == [(task.id, 2)]
    critical = service.incidents.get(incident.id)
    assert critical is not None and critical.severity is Severity.CRITICAL
    third = workflow.tasks.escalate_overdue(DUE + timedelta(seconds=1 + 2 * REPEAT_S))
    assert [t.escalation_level for t in third] == [3]
    unchanged = service.incidents.get(incident.id)
    assert unchanged == critical, "already critical: no new seq"


def test_several_overdue_tasks_raise_severity_once_per_pass(
    service: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(service)
    with service.database.session(write=True) as session:
        session.get_one(IncidentRow, incident.id).severity = Severity.LOW.value
    for agency in (POLICE, ARMY):
        workflow.tasks.create_task(incident.id, agency, "Search", DUE, "op")
    assert len(workflow.tasks.escalate_overdue(DUE)) == 2
    after = service.incidents.get(incident.id)
    assert after is not None and after.severity is Severity.MEDIUM


def test_done_cancelled_and_closed_incident_tasks_are_not_escalated(
    service: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(service)
    done = workflow.tasks.create_task(incident.id, POLICE, "Done", DUE, "op")
    workflow.tasks.update_task_state(done.id, TaskState.ACKNOWLEDGED, USERS["liaison"])
    workflow.tasks.update_task_state(done.id, TaskState.DONE, USERS["liaison"])
    cancelled = workflow.tasks.create_task(incident.id, POLICE, "Cancelled", DUE, "op")
    workflow.tasks.update_task_state(cancelled.id, TaskState.CANCELLED, USERS["cmd"])
    acknowledged = workflow.tasks.create_task(incident.id, POLICE, "Acknowledged", DUE, "op")
    workflow.tasks.update_task_state(acknowledged.id, TaskState.ACKNOWLEDGED, USERS["liaison"])
    closed = fresh_incident(service)
    workflow.tasks.create_task(closed.id, POLICE, "Closed", DUE, "op")
    drive_to(workflow, closed.id, IncidentState.FALSE_ALARM)

    escalated = workflow.tasks.escalate_overdue(DUE + timedelta(hours=1))

    assert [t.id for t in escalated] == [acknowledged.id]
    assert service.incidents.get(closed.id).severity is Severity.HIGH  # type: ignore[union-attr]


def test_loop_escalates_with_its_clock_and_stops(service: HubService, clock: Clock) -> None:
    prepare_hub(service)
    incident = fresh_incident(service)
    service.workflow.tasks.create_task(incident.id, POLICE, "Search", clock.now + timedelta(days=3650), "op")
    late = Clock(clock.now + timedelta(days=3651))
    loop = EscalationLoop(service.workflow.tasks, 0.05, clock=late)

    loop.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            loop.start()
        deadline = time.monotonic() + 5
        while loop.stats.escalated == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        loop.stop()

    assert not loop.running
    assert loop.stats.escalated == 1
    assert loop.stats.passes >= 1
    assert service.workflow.tasks.list_tasks(incident.id)[0].escalation_level == 1
    passes = loop.stats.passes
    time.sleep(0.15)
    assert loop.stats.passes == passes, "no pass after stop"


def test_loop_survives_a_failing_pass(service: HubService) -> None:
    calls = threading.Event()
    loop = EscalationLoop(service.workflow.tasks, 0.01, clock=Clock())

    def failing(now: object) -> list[object]:
        calls.set()
        raise RuntimeError("database down")

    service.workflow.tasks.escalate_overdue = failing  # type: ignore[assignment,method-assign]
    loop.start()
    try:
        assert calls.wait(5)
        deadline = time.monotonic() + 5
        while loop.stats.failures < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop()
    assert loop.stats.failures >= 2, "the loop carried on after the first failure"
    assert loop.stats.passes == 0


def test_loop_refuses_a_non_positive_interval(service: HubService) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        EscalationLoop(service.workflow.tasks, 0)


def test_site_config_has_a_strict_workflow_section() -> None:
    section = {"escalation_interval_s": 5, "escalation_repeat_s": 60}
    config = AppConfig.model_validate({"hub": {"workflow": section}})
    assert (config.hub.workflow.escalation_interval_s, config.hub.workflow.escalation_repeat_s) == (5, 60)
    assert AppConfig().hub.workflow.attachment_max_bytes == 20 * 1024 * 1024
    with pytest.raises(ValidationError, match="escalation_every_s"):
        AppConfig.model_validate({"hub": {"workflow": {"escalation_every_s": 5}}})
    with pytest.raises(ValidationError, match="escalation_interval_s"):
        AppConfig.model_validate({"hub": {"workflow": {"escalation_interval_s": 0}}})


def _created_at(service: HubService, incident_id: object) -> "datetime":
    with service.database.session() as session:
        row = session.get(IncidentRow, incident_id)
        assert row is not None
        created: datetime = row.created_at
        return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def test_unacknowledged_incidents_escalate_on_the_policy_timer(service: HubService, clock: Clock) -> None:
    prepare_hub(service)
    workflow = workflow_of(service, clock, unacknowledged_escalation_s=300.0, unacknowledged_max_level=2)
    seen = Seen()
    service.journal.add_listener(seen)
    waiting = fresh_incident(service)
    answered = fresh_incident(service)
    workflow.transition(answered.id, IncidentState.ACKNOWLEDGED, "op")
    opened = _created_at(service, waiting.id)

    assert workflow.unacknowledged.escalate(opened + timedelta(seconds=299)) == []
    (first,) = workflow.unacknowledged.escalate(opened + timedelta(seconds=301))
    assert first.id == waiting.id and first.severity is raised(waiting.severity)
    assert first.seq > waiting.seq and seen.incidents[-1].id == waiting.id  # pages see it at once
    assert workflow.unacknowledged.escalate(opened + timedelta(seconds=400)) == []  # one step per period
    (second,) = workflow.unacknowledged.escalate(opened + timedelta(seconds=601))
    assert second.severity is raised(raised(waiting.severity))
    assert workflow.unacknowledged.escalate(opened + timedelta(hours=2)) == []  # at most two levels

    steps = [row for row in history(service, waiting.id) if row.kind == "escalation"]
    assert [(s.actor, s.detail["level"], s.detail["after_s"]) for s in steps] == [
        (ESCALATION_ACTOR, 1, 301),
        (ESCALATION_ACTOR, 2, 601),
    ]
    assert not [row for row in history(service, answered.id) if row.kind == "escalation"]
    actions = [entry.action for entry in service.audit.entries(limit=20)]
    assert actions.count("incident.escalate") == 2


def test_the_policy_can_switch_unacknowledged_escalation_off(service: HubService, clock: Clock) -> None:
    prepare_hub(service)
    workflow = workflow_of(service, clock, unacknowledged_escalation_s=None)
    incident = fresh_incident(service)
    assert not workflow.unacknowledged.enabled
    assert workflow.unacknowledged.escalate(_created_at(service, incident.id) + timedelta(days=1)) == []
