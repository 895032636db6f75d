"""Tasks given to agencies about incidents, and the escalation of overdue ones.

Tasking an agency shares the incident with it (its code joins ``Incident.shared_with``). A task that
is neither done nor cancelled when its due time passes is escalated: its level goes up, and its
incident's severity rises one step (at most critical, once per incident per pass). It is escalated
again only after another full ``escalation_repeat_s``.
"""

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hwarang.domain import Incident, Role, Severity, Task, TaskState, User
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.sharing.policy import AccessDeniedError
from hwarang.hub.store.locks import lock_hub_state
from hwarang.hub.store.models import TaskRow
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.parts import WorkflowParts
from hwarang.hub.workflow.records import (
    add_history,
    incident_of,
    lock_incident,
    renumber,
    state_of,
    task_from_row,
)
from hwarang.hub.workflow.states import (
    CLOSED_TASK_STATES,
    TASK_REASON_REQUIRED,
    TERMINAL_STATES,
    WorkflowInputError,
    check_task_transition,
)

logger = logging.getLogger(__name__)

ESCALATION_ACTOR = "system:escalation"
TASK_ADMIN_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})
"""Roles that may update any agency's tasks; everyone else only their own agency's."""
_SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
_OPEN_STATES = [state.value for state in TaskState if state not in CLOSED_TASK_STATES]


def raised(severity: Severity) -> Severity:
    """One step more severe, at most critical."""
    index = _SEVERITY_ORDER.index(severity)
    return _SEVERITY_ORDER[min(index + 1, len(_SEVERITY_ORDER) - 1)]


def cancel_open_tasks(
    session: Session, incident_id: uuid.UUID, actor: str, now: datetime, reason: str
) -> list[uuid.UUID]:
    """Cancel the incident's open and acknowledged tasks (when it is closed); returns their ids."""
    stmt = select(TaskRow).where(TaskRow.incident_id == incident_id, TaskRow.state.in_(_OPEN_STATES))
    cancelled: list[uuid.UUID] = []
    for row in session.scalars(stmt.with_for_update()):
        _set_task_state(session, row, TaskState.CANCELLED, actor, now, reason)
        cancelled.append(row.id)
    return cancelled


def _set_task_state(
    session: Session, row: TaskRow, state: TaskState, actor: str, now: datetime, reason: str
) -> None:
    previous = row.state
    row.state = state.value
    row.updated_at = now
    detail = {"task_id": str(row.id), "agency_code": row.agency_code, "reason": reason}
    add_history(
        session,
        row.incident_id,
        actor,
        "task.state",
        now,
        from_state=previous,
        to_state=state.value,
        detail=detail,
    )
    audit = {"incident_id": str(row.incident_id), "from": previous, "to": state.value, "reason": reason}
    add_audit(session, actor, "task.update", f"task:{row.id}", audit, at=now)


class TaskService:
    """Creates, updates, lists and escalates tasks on the hub's database."""

    def __init__(self, parts: WorkflowParts, config: WorkflowConfig, clock: Callable[[], datetime]) -> None:
        self._parts = parts
        self._config = config
        self._clock = clock

    def create_task(
        self,
        incident_id: uuid.UUID,
        agency_code: str,
        title: str,
        due_at: datetime,
        actor: str,
        *,
        unit: str | None = None,
        instructions: str = "",
    ) -> Task:
        """Task a registered agency (and optionally a unit) with a due time; shares the incident with it.

        WorkflowInputError for an unknown agency, a due time not in the future or invalid fields;
        NotFoundError / ConflictError when the incident is missing, merged or closed.
        """
        now = self._clock()
        if self._parts.agencies.get(agency_code) is None:
            raise WorkflowInputError(f"agency {agency_code!r} is not registered; task a registered agency")
        if due_at.tzinfo is None or due_at <= now:
            raise WorkflowInputError(
                f"due_at {due_at.isoformat()} must be a time with a zone after now ({now.isoformat()})"
            )
        try:
            task = Task(
                id=uuid.uuid4(),
                incident_id=incident_id,
                agency_code=agency_code,
                unit=unit or None,
                title=title.strip(),
                instructions=instructions.strip(),
                due_at=due_at,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
        except ValidationError as exc:
            raise WorkflowInputError(f"task for incident {incident_id}: {exc.errors()[0]['msg']}") from None
        incident: Incident | None = None
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id)
            if state_of(row) in TERMINAL_STATES:
                raise ConflictError(
                    f"incident {incident_id} is {row.state}; reopen it before tasking agencies"
                )
            session.add(_task_row(task))
            detail: dict[str, Any] = {
                "task_id": str(task.id),
                "agency_code": agency_code,
                "unit": task.unit,
                "title": task.title,
                "due_at": due_at.isoformat(),
            }
            add_history(session, incident_id, actor, "task.created", now, detail=detail)
            audit = {
                "incident_id": str(incident_id),
                "agency_code": agency_code,
                "due_at": due_at.isoformat(),
            }
            add_audit(session, actor, "task.create", f"task:{task.id}", audit, at=now)
            if agency_code not in row.shared_with:
                row.shared_with = [*row.shared_with, agency_code]
                renumber(self._parts.journal, session, row, now)
                share = {"agency_code": agency_code, "via": "task", "task_id": str(task.id)}
                add_history(session, incident_id, actor, "share", now, detail=share)
                add_audit(session, actor, "incident.share", f"incident:{incident_id}", share, at=now)
                incident = incident_of(session, row)
        if incident is not None:
            self._parts.journal.notify(incident)
        logger.info("task %s for incident %s given to %s by %s", task.id, incident_id, agency_code, actor)
        return task

    def update_task_state(self, task_id: uuid.UUID, state: TaskState, user: User, reason: str = "") -> Task:
        """Move a task along ``open -> acknowledged -> in_progress -> done``, decline or cancel it.

        Every user acts on their own agency's tasks; only commanders and administrators update
        other agencies' tasks (AccessDeniedError). Declining and reporting progress need a reason
        (WorkflowInputError); InvalidTransitionError names the task's state and the allowed ones.
        """
        now = self._clock()
        with self._parts.database.session(write=True) as session:
            lock_hub_state(session)
            row = session.get(TaskRow, task_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"task {task_id} not found")
            if row.agency_code != user.agency_code and not TASK_ADMIN_ROLES.intersection(user.roles):
                raise AccessDeniedError(
                    f"task {task_id} belongs to another agency; you may update only tasks of "
                    f"{user.agency_code}"
                )
            check_task_transition(f"task {task_id}", TaskState(row.state), state)
            if state in TASK_REASON_REQUIRED and not reason.strip():
                what = "why it is declined" if state is TaskState.DECLINED else "the progress made"
                raise WorkflowInputError(f"task {task_id} to {state.value} needs a reason: {what}")
            _set_task_state(session, row, state, user.username, now, reason.strip())
            return task_from_row(row)

    def get_task(self, task_id: uuid.UUID) -> Task:
        """The task; NotFoundError when it does not exist."""
        with self._parts.database.session() as session:
            row = session.get(TaskRow, task_id)
            if row is None:
                raise NotFoundError(f"task {task_id} not found")
            return task_from_row(row)

    def list_tasks(self, incident_id: uuid.UUID) -> list[Task]:
        """The incident's tasks, oldest first."""
        stmt = select(TaskRow).where(TaskRow.incident_id == incident_id)
        with self._parts.database.session() as session:
            rows = session.scalars(stmt.order_by(TaskRow.created_at, TaskRow.id))
            return [task_from_row(r) for r in rows]

    def list_agency_tasks(
        self, agency_code: str | None, *, open_only: bool = False, limit: int = 500
    ) -> list[Task]:
        """Tasks of one agency (every agency for None), earliest due first, at most ``limit``."""
        stmt = select(TaskRow)
        if agency_code is not None:
            stmt = stmt.where(TaskRow.agency_code == agency_code)
        if open_only:
            stmt = stmt.where(TaskRow.state.in_(_OPEN_STATES))
        stmt = stmt.order_by(TaskRow.due_at, TaskRow.id).limit(limit)
        with self._parts.database.session() as session:
            return [task_from_row(r) for r in session.scalars(stmt)]

    # -- escalation -------------------------------------------------------------------------

    def escalate_overdue(self, now: datetime) -> list[Task]:
        """Escalate every open or acknowledged task past its due time and not escalated within the
        last ``escalation_repeat_s``; returns the escalated tasks (incidents are notified)."""
        due = self._overdue_filter(now)
        with self._parts.database.session() as session:
            pairs = session.execute(select(TaskRow.incident_id, TaskRow.id).where(*due)).all()
        by_incident: dict[uuid.UUID, list[uuid.UUID]] = {}
        for incident_id, task_id in pairs:
            by_incident.setdefault(incident_id, []).append(task_id)
        escalated: list[Task] = []
        for incident_id, task_ids in by_incident.items():
            tasks, incident = self._escalate_incident(incident_id, task_ids, now)
            escalated.extend(tasks)
            if incident is not None:
                self._parts.journal.notify(incident)
        if escalated:
            logger.warning("%s overdue task(s) escalated on %s incident(s)", len(escalated), len(by_incident))
        return escalated

    def _overdue_filter(self, now: datetime) -> Sequence[Any]:
        again = now - timedelta(seconds=self._config.escalation_repeat_s)
        return (
            TaskRow.state.in_(_OPEN_STATES),
            TaskRow.due_at <= now,
            or_(TaskRow.escalated_at.is_(None), TaskRow.escalated_at <= again),
        )

    def _escalate_incident(
        self, incident_id: uuid.UUID, task_ids: list[uuid.UUID], now: datetime
    ) -> tuple[list[Task], Incident | None]:
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id, writable=False)
            if row.merged_into is not None or state_of(row) in TERMINAL_STATES:
                return [], None
            # Re-check under the lock: another hub process may have escalated them meanwhile.
            stmt = select(TaskRow).where(TaskRow.id.in_(task_ids), *self._overdue_filter(now))
            rows = list(session.scalars(stmt.with_for_update()))
            for task in rows:
                task.escalation_level += 1
                task.escalated_at = now
                task.updated_at = now
                detail = {
                    "task_id": str(task.id),
                    "agency_code": task.agency_code,
                    "level": task.escalation_level,
                    "due_at": task.due_at.isoformat(),
                }
                add_history(session, incident_id, ESCALATION_ACTOR, "task.escalated", now, detail=detail)
                add_audit(session, ESCALATION_ACTOR, "task.escalate", f"task:{task.id}", detail, at=now)
            incident = None
            severity = Severity(row.severity)
            if rows and raised(severity) is not severity:
                row.severity = raised(severity).value
                renumber(self._parts.journal, session, row, now)
                detail = {
                    "from": severity.value,
                    "to": row.severity,
                    "reason": "task overdue",
                    "task_ids": [str(task.id) for task in rows],
                }
                add_history(session, incident_id, ESCALATION_ACTOR, "severity", now, detail=detail)
                add_audit(
                    session, ESCALATION_ACTOR, "incident.severity", f"incident:{incident_id}", detail, at=now
                )
                incident = incident_of(session, row)
            return [task_from_row(task) for task in rows], incident


def _task_row(task: Task) -> TaskRow:
    return TaskRow(
        id=task.id,
        incident_id=task.incident_id,
        agency_code=task.agency_code,
        unit=task.unit,
        title=task.title,
        instructions=task.instructions,
        state=task.state.value,
        due_at=task.due_at,
        escalation_level=task.escalation_level,
        escalated_at=task.escalated_at,
        created_by=task.created_by,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )
