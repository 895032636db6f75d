"""Countermeasure workflow records: tasks, notes, attachments and the incident timeline."""

import uuid
from typing import Any

from pydantic import AwareDatetime, Field

from hwarang.domain.base import DomainModel
from hwarang.domain.enums import TaskState


class Task(DomainModel):
    """Work given to an agency (and optionally one of its units) about an incident, with a due time."""

    id: uuid.UUID
    incident_id: uuid.UUID
    agency_code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    unit: str | None = Field(default=None, max_length=128, description="Unit within the agency.")
    title: str = Field(min_length=1, max_length=256)
    instructions: str = Field(default="", max_length=4000)
    state: TaskState = TaskState.OPEN
    due_at: AwareDatetime
    escalation_level: int = Field(default=0, ge=0, description="How many times it was escalated.")
    escalated_at: AwareDatetime | None = None
    created_by: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Note(DomainModel):
    """A free-text note on an incident."""

    id: int
    incident_id: uuid.UUID
    author: str
    at: AwareDatetime
    text: str = Field(min_length=1, max_length=8000)


class Attachment(DomainModel):
    """A file attached to an incident, stored by the SHA-256 of its bytes."""

    id: uuid.UUID
    incident_id: uuid.UUID
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: str = Field(min_length=1, max_length=256)
    content_type: str
    size: int = Field(ge=0)
    uploaded_by: str
    at: AwareDatetime


class TimelineEntry(DomainModel):
    """One step in an incident's history: created, event added, state change, merge, split, task..."""

    id: int
    incident_id: uuid.UUID
    at: AwareDatetime
    actor: str
    kind: str = Field(description="Dotted kind, e.g. 'state', 'event.added', 'merge', 'task.created'.")
    from_state: str | None = None
    to_state: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
