"""The countermeasure workflow on the hub's database: state changes, assignment, notes,
attachments, the timeline, and (through :attr:`WorkflowService.tasks`) tasks and their escalation.

Every change runs in one transaction that also writes its ``incident_history`` row and its audit
record; changes to the incident itself give it a new hub-wide seq and are announced to the
journal's listeners (live WebSocket clients) after the commit. The transition tables are in
:mod:`hwarang.hub.workflow.states`.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.domain import Attachment, Incident, IncidentState, Note, TimelineEntry, User
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.sharing.policy import AccessDeniedError, Action
from hwarang.hub.store.models import AttachmentRow, IncidentHistoryRow, IncidentRow, NoteRow
from hwarang.hub.workflow.attachments import (
    AttachmentTooLargeError,
    UnsupportedAttachmentError,
    check_attachment,
)
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.parts import WorkflowParts
from hwarang.hub.workflow.records import (
    add_history,
    attachment_from_row,
    incident_of,
    lock_incident,
    note_from_row,
    renumber,
    state_of,
    timeline_from_row,
)
from hwarang.hub.workflow.states import (
    INCIDENT_TRANSITIONS,
    REASON_REQUIRED,
    REOPEN_ROLES,
    REOPEN_STATE,
    TERMINAL_STATES,
    InvalidTransitionError,
    WorkflowInputError,
    check_incident_transition,
)
from hwarang.hub.workflow.tasks import TaskService, cancel_open_tasks
from hwarang.hub.workflow.unacknowledged import UnacknowledgedEscalation

__all__ = [
    "INCIDENT_TRANSITIONS",
    "AttachmentTooLargeError",
    "InvalidTransitionError",
    "UnsupportedAttachmentError",
    "WorkflowConfig",
    "WorkflowInputError",
    "WorkflowService",
]

logger = logging.getLogger(__name__)

MAX_REASON_CHARS = 2000
MAX_NOTE_CHARS = 8000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _clean_reason(reason: str) -> str:
    text = reason.strip()
    if len(text) > MAX_REASON_CHARS:
        raise WorkflowInputError(f"reason has {len(text)} characters; at most {MAX_REASON_CHARS} are kept")
    return text


class WorkflowService:
    """Countermeasure workflow operations; ``clock`` (UTC now) is injectable for tests."""

    def __init__(
        self,
        parts: WorkflowParts,
        config: WorkflowConfig | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._parts = parts
        self.config = config or WorkflowConfig()
        self._clock = clock or _utc_now
        self.tasks = TaskService(parts, self.config, self._clock)
        self.unacknowledged = UnacknowledgedEscalation(parts, self.config, self._clock)

    # -- state ------------------------------------------------------------------------------

    def transition(
        self, incident_id: uuid.UUID, to_state: IncidentState, actor: str, reason: str = ""
    ) -> Incident:
        """Move the incident to ``to_state`` if the transition table allows it.

        InvalidTransitionError (HTTP 409) names the current, requested and allowed states;
        WorkflowInputError when closing without a reason. Closing cancels the incident's open tasks.
        """
        reason = _clean_reason(reason)
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id)
            current = state_of(row)
            check_incident_transition(f"incident {incident_id}", current, to_state)
            if to_state in REASON_REQUIRED and not reason:
                raise WorkflowInputError(f"closing incident {incident_id} as {to_state.value} needs a reason")
            incident = self._set_state(session, row, to_state, actor, reason, reopen=False)
        self._parts.journal.notify(incident)
        logger.info("incident %s: %s -> %s by %s", incident_id, current, to_state, actor)
        return incident

    def reopen(self, incident_id: uuid.UUID, user: User, reason: str) -> Incident:
        """Move a resolved or false-alarm incident back to ``assessing``: commanders and admins only."""
        if not REOPEN_ROLES.intersection(user.roles):
            raise AccessDeniedError(
                f"reopening incident {incident_id} needs one of the roles "
                f"{', '.join(sorted(REOPEN_ROLES))}; {user.username} has {', '.join(user.roles)}"
            )
        reason = _clean_reason(reason)
        if not reason:
            raise WorkflowInputError(f"reopening incident {incident_id} needs a reason")
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id)
            current = state_of(row)
            if current not in TERMINAL_STATES:
                raise ConflictError(
                    f"incident {incident_id} is {current.value}, not closed; only resolved or "
                    "false_alarm incidents are reopened"
                )
            incident = self._set_state(session, row, REOPEN_STATE, user.username, reason, reopen=True)
        self._parts.journal.notify(incident)
        logger.info("incident %s reopened (%s) by %s", incident_id, current, user.username)
        return incident

    def _set_state(
        self,
        session: Session,
        row: IncidentRow,
        to_state: IncidentState,
        actor: str,
        reason: str,
        *,
        reopen: bool,
    ) -> Incident:
        now = self._clock()
        previous = state_of(row)
        row.state = to_state.value
        if row.acknowledged_at is None:
            row.acknowledged_at = now
        if to_state in TERMINAL_STATES:
            row.resolved_at = now
        elif reopen:
            row.resolved_at = None
        renumber(self._parts.journal, session, row, now)
        detail: dict[str, object] = {"reason": reason}
        if reopen:
            detail["reopen"] = True
        if to_state in TERMINAL_STATES:
            detail["cancelled_tasks"] = [
                str(task_id)
                for task_id in cancel_open_tasks(session, row.id, actor, now, f"incident {to_state.value}")
            ]
        add_history(
            session,
            row.id,
            actor,
            "state",
            now,
            from_state=previous.value,
            to_state=to_state.value,
            detail=detail,
        )
        audit = {"from": previous.value, "to": to_state.value, "seq": row.seq, **detail}
        add_audit(session, actor, "incident.transition", f"incident:{row.id}", audit, at=now)
        return incident_of(session, row)

    # -- assignment -------------------------------------------------------------------------

    def assign(self, incident_id: uuid.UUID, username: str | None, actor: str) -> Incident:
        """Make ``username`` (None: nobody) the operator handling the incident.

        The assignee must be an enabled user who may view the incident (WorkflowInputError);
        closed incidents are not reassigned (ConflictError). Assigning the current assignee again
        changes nothing.
        """
        if username is not None:
            self._check_assignee(incident_id, username)
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id)
            if state_of(row) in TERMINAL_STATES:
                raise ConflictError(f"incident {incident_id} is {row.state}; reopen it before reassigning")
            if row.assignee == username:
                return incident_of(session, row)
            now = self._clock()
            previous, row.assignee = row.assignee, username
            renumber(self._parts.journal, session, row, now)
            detail = {"from": previous, "to": username}
            add_history(session, incident_id, actor, "assign", now, detail=detail)
            add_audit(session, actor, "incident.assign", f"incident:{incident_id}", detail, at=now)
            incident = incident_of(session, row)
        self._parts.journal.notify(incident)
        return incident

    def _check_assignee(self, incident_id: uuid.UUID, username: str) -> None:
        assignee = self._parts.users.get(username)
        if assignee is None:
            raise WorkflowInputError(f"cannot assign incident {incident_id}: no enabled user {username!r}")
        incident = self._parts.incidents.get(incident_id)
        if incident is None:
            raise NotFoundError(f"incident {incident_id} not found")
        decision = self._parts.sharing.decide(assignee, Action.INCIDENT_TRANSITION, incident)
        if not decision.allowed:
            raise WorkflowInputError(
                f"cannot assign incident {incident_id} to {username}, who may not handle it: "
                f"{decision.reason}"
            )

    # -- notes ------------------------------------------------------------------------------

    def add_note(self, incident_id: uuid.UUID, author: str, text: str) -> Note:
        """Add a free-text note (1 to 8000 characters); also allowed on closed incidents."""
        text = text.strip()
        if not text or len(text) > MAX_NOTE_CHARS:
            raise WorkflowInputError(
                f"note on incident {incident_id} has {len(text)} characters; "
                f"1 to {MAX_NOTE_CHARS} are accepted"
            )
        now = self._clock()
        with self._parts.database.session(write=True) as session:
            lock_incident(session, incident_id)
            row = NoteRow(incident_id=incident_id, author=author, at=now, text=text)
            session.add(row)
            session.flush()
            detail = {"note_id": row.id, "chars": len(text)}
            add_history(session, incident_id, author, "note", now, detail=detail)
            add_audit(session, author, "incident.note", f"incident:{incident_id}", detail, at=now)
            return note_from_row(row)

    def list_notes(self, incident_id: uuid.UUID) -> list[Note]:
        """The incident's notes, oldest first."""
        stmt = select(NoteRow).where(NoteRow.incident_id == incident_id).order_by(NoteRow.id)
        with self._parts.database.session() as session:
            return [note_from_row(r) for r in session.scalars(stmt)]

    # -- attachments ------------------------------------------------------------------------

    def add_attachment(
        self,
        incident_id: uuid.UUID,
        data: bytes,
        filename: str | None,
        content_type: str | None,
        uploaded_by: str,
    ) -> Attachment:
        """Store a file in the evidence store (by SHA-256) and attach it to the incident.

        AttachmentTooLargeError, UnsupportedAttachmentError (type not allowed or bytes not of that
        type) and WorkflowInputError (empty) refuse it before anything is stored.
        """
        checked = check_attachment(data, filename, content_type, self.config)
        with self._parts.database.session() as session:
            if session.get(IncidentRow, incident_id) is None:
                raise NotFoundError(f"incident {incident_id} not found")
        sha256 = self._parts.evidence.put(data)
        now = self._clock()
        with self._parts.database.session(write=True) as session:
            lock_incident(session, incident_id)
            row = AttachmentRow(
                id=uuid.uuid4(),
                incident_id=incident_id,
                sha256=sha256,
                filename=checked.filename,
                content_type=checked.content_type,
                size=len(data),
                uploaded_by=uploaded_by,
                at=now,
            )
            session.add(row)
            detail = {
                "attachment_id": str(row.id),
                "sha256": sha256,
                "filename": checked.filename,
                "content_type": checked.content_type,
                "size": len(data),
            }
            add_history(session, incident_id, uploaded_by, "attachment", now, detail=detail)
            add_audit(session, uploaded_by, "incident.attach", f"incident:{incident_id}", detail, at=now)
            return attachment_from_row(row)

    def list_attachments(self, incident_id: uuid.UUID) -> list[Attachment]:
        """The incident's attachments, oldest first."""
        stmt = select(AttachmentRow).where(AttachmentRow.incident_id == incident_id)
        with self._parts.database.session() as session:
            rows = session.scalars(stmt.order_by(AttachmentRow.at, AttachmentRow.id))
            return [attachment_from_row(r) for r in rows]

    def attachment(self, incident_id: uuid.UUID, attachment_id: uuid.UUID) -> tuple[Attachment, bytes]:
        """One attachment of the incident and its bytes; NotFoundError when either is missing."""
        with self._parts.database.session() as session:
            row = session.get(AttachmentRow, attachment_id)
            if row is None or row.incident_id != incident_id:
                raise NotFoundError(f"attachment {attachment_id} of incident {incident_id} not found")
            attachment = attachment_from_row(row)
        try:
            data = self._parts.evidence.get(attachment.sha256)
        except FileNotFoundError:
            raise NotFoundError(
                f"attachment {attachment_id}: bytes {attachment.sha256} are missing from the evidence store"
            ) from None
        return attachment, data

    # -- timeline ---------------------------------------------------------------------------

    def timeline(self, incident_id: uuid.UUID) -> list[TimelineEntry]:
        """Every recorded step of the incident (any kind, from any component), in order."""
        stmt = (
            select(IncidentHistoryRow)
            .where(IncidentHistoryRow.incident_id == incident_id)
            .order_by(IncidentHistoryRow.at, IncidentHistoryRow.id)
        )
        with self._parts.database.session() as session:
            return [timeline_from_row(r) for r in session.scalars(stmt)]
