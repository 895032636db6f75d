"""Building blocks of workflow changes inside one transaction: lock, new seq, history, conversions."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hwarang.domain import Attachment, Incident, IncidentState, Note, Task, TaskState, TimelineEntry
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.journal import Journal
from hwarang.hub.store.locks import lock_hub_state
from hwarang.hub.store.mapping import incidents_from_rows
from hwarang.hub.store.models import (
    AttachmentRow,
    IncidentHistoryRow,
    IncidentRow,
    NoteRow,
    TaskRow,
)


def lock_incident(session: Session, incident_id: uuid.UUID, *, writable: bool = True) -> IncidentRow:
    """The incident row, locked until commit (PostgreSQL ``FOR UPDATE``; SQLite writers lock at BEGIN).

    Takes the hub_state lock first (:mod:`hwarang.hub.store.locks`). NotFoundError when missing; with
    ``writable``, ConflictError when it was merged into another.
    """
    lock_hub_state(session)
    row = session.get(IncidentRow, incident_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"incident {incident_id} not found")
    if writable and row.merged_into is not None:
        raise ConflictError(f"incident {incident_id} was merged into {row.merged_into}; work on that one")
    return row


def renumber(journal: Journal, session: Session, row: IncidentRow, now: datetime) -> None:
    """Give the changed incident a new hub-wide seq so live clients and ``after_seq`` readers see it."""
    row.seq = journal.next_seq(session)
    row.updated_at = now


def incident_of(session: Session, row: IncidentRow) -> Incident:
    """The domain incident of ``row`` as changed so far in this transaction."""
    session.flush()
    return incidents_from_rows(session, [row])[0]


def add_history(
    session: Session,
    incident_id: uuid.UUID,
    actor: str,
    kind: str,
    at: datetime,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> IncidentHistoryRow:
    """Append one step to the incident's timeline (committed with the change it records)."""
    row = IncidentHistoryRow(
        incident_id=incident_id,
        at=at,
        actor=actor[:128],
        kind=kind[:32],
        from_state=from_state,
        to_state=to_state,
        detail=dict(detail or {}),
    )
    session.add(row)
    return row


def state_of(row: IncidentRow) -> IncidentState:
    """The incident row's state as the enum."""
    return IncidentState(row.state)


def task_from_row(row: TaskRow) -> Task:
    """The domain task of a row."""
    return Task(
        id=row.id,
        incident_id=row.incident_id,
        agency_code=row.agency_code,
        unit=row.unit,
        title=row.title,
        instructions=row.instructions,
        state=TaskState(row.state),
        due_at=row.due_at,
        escalation_level=row.escalation_level,
        escalated_at=row.escalated_at,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def note_from_row(row: NoteRow) -> Note:
    """The domain note of a row."""
    return Note(id=row.id, incident_id=row.incident_id, author=row.author, at=row.at, text=row.text)


def attachment_from_row(row: AttachmentRow) -> Attachment:
    """The domain attachment of a row."""
    return Attachment(
        id=row.id,
        incident_id=row.incident_id,
        sha256=row.sha256,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        uploaded_by=row.uploaded_by,
        at=row.at,
    )


def timeline_from_row(row: IncidentHistoryRow) -> TimelineEntry:
    """The domain timeline entry of a history row."""
    return TimelineEntry(
        id=row.id,
        incident_id=row.incident_id,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        from_state=row.from_state,
        to_state=row.to_state,
        detail=dict(row.detail or {}),
    )
