"""The countermeasure workflow: incident transitions, assignment, notes, attachments, timeline, tasks.

Every route declares its :class:`Action`; routes on an incident check it with ``load_incident``.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, Response, UploadFile, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hwarang.api.access import Action, load_incident, permit
from hwarang.api.auth import client_host
from hwarang.api.context import ApiContext, get_context
from hwarang.api.rooms import AuditRoom, Gate, GateRoom, TasksRoom, WorkflowRoom
from hwarang.domain import (
    Attachment,
    Incident,
    IncidentState,
    Note,
    Role,
    Task,
    TaskState,
    TimelineEntry,
    User,
)
from hwarang.hub.workflow.service import (
    AttachmentTooLargeError,
    UnsupportedAttachmentError,
    WorkflowInputError,
)
from hwarang.hub.workflow.states import REOPEN_STATE

router = APIRouter(tags=["workflow"])

_INCIDENT = "/api/v1/incidents/{incident_id}"
_ALL_TASKS_ROLES = frozenset({Role.ADMIN, Role.COMMANDER})
"""Roles that list every agency's tasks (still only on incidents they may view)."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransitionRequest(_Request):
    """Move an incident to another workflow state."""

    to: IncidentState = Field(description="The state to move to.")
    reason: str = Field(default="", max_length=2000, description="Why; required to close or reopen.")
    reopen: bool = Field(
        default=False, description="Reopen a resolved or false-alarm incident (to 'assessing'; commanders)."
    )


class AssignRequest(_Request):
    """Who handles an incident."""

    username: str | None = Field(description="The operator to assign; null to unassign.")


class NoteRequest(_Request):
    """A free-text note."""

    text: str = Field(min_length=1, max_length=8000)


class TaskRequest(_Request):
    """Task an agency (and optionally one of its units) with a due time."""

    agency_code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="A registered agency.")
    unit: str | None = Field(default=None, max_length=128, description="Unit within the agency.")
    title: str = Field(min_length=1, max_length=256)
    instructions: str = Field(default="", max_length=4000)
    due_at: AwareDatetime = Field(description="When it must be done; escalated afterwards.")


class TaskStateRequest(_Request):
    """Move a task: acknowledged, in_progress (a progress report), done, declined (with a reason),
    cancelled (the tasking center)."""

    state: TaskState
    reason: str = Field(default="", max_length=2000)


@contextmanager
def _client_errors() -> Iterator[None]:
    """Workflow input errors as HTTP 413 / 415 / 422 (conflicts and refusals map app-wide)."""
    try:
        yield
    except AttachmentTooLargeError as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=str(exc)) from None
    except UnsupportedAttachmentError as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from None
    except WorkflowInputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None


Context = Annotated[ApiContext, Depends(get_context)]


@router.post(_INCIDENT + "/transitions", response_model=Incident, summary="Change an incident's state")
def post_transition(
    incident_id: uuid.UUID,
    body: TransitionRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_TRANSITION))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> Incident:
    """409 names the current, requested and allowed states when the transition table refuses."""
    load_incident(gate, user, incident_id, Action.INCIDENT_TRANSITION)
    with _client_errors():
        if body.reopen:
            if body.to is not REOPEN_STATE:
                raise WorkflowInputError(
                    f"a reopened incident goes to {REOPEN_STATE.value}, not {body.to.value}"
                )
            return workflow.reopen(incident_id, user, body.reason)
        return workflow.transition(incident_id, body.to, user.username, body.reason)


@router.post(_INCIDENT + "/assign", response_model=Incident, summary="Assign an incident to an operator")
def post_assign(
    incident_id: uuid.UUID,
    body: AssignRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_ASSIGN))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> Incident:
    """The assignee must be an enabled user who may handle the incident (422 otherwise)."""
    load_incident(gate, user, incident_id, Action.INCIDENT_ASSIGN)
    with _client_errors():
        return workflow.assign(incident_id, body.username, user.username)


@router.get(_INCIDENT + "/notes", response_model=list[Note], summary="An incident's notes")
def get_notes(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> list[Note]:
    """Oldest first."""
    load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    return workflow.list_notes(incident_id)


@router.post(
    _INCIDENT + "/notes", response_model=Note, status_code=status.HTTP_201_CREATED, summary="Add a note"
)
def post_note(
    incident_id: uuid.UUID,
    body: NoteRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_NOTE))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> Note:
    """A note is kept even on closed incidents."""
    load_incident(gate, user, incident_id, Action.INCIDENT_NOTE)
    with _client_errors():
        return workflow.add_note(incident_id, user.username, body.text)


@router.get(_INCIDENT + "/attachments", response_model=list[Attachment], summary="An incident's attachments")
def get_attachments(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> list[Attachment]:
    """What is attached (names, types, sizes, hashes); the bytes are evidence, fetched one by one."""
    load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    return workflow.list_attachments(incident_id)


@router.post(
    _INCIDENT + "/attachments",
    response_model=Attachment,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file (multipart field 'file')",
    responses={413: {"description": "Too large."}, 415: {"description": "Media type not allowed."}},
)
def post_attachment(
    incident_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="The file; its media type must be allowed.")],
    user: Annotated[User, Depends(permit(Action.INCIDENT_ATTACH))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> Attachment:
    """Stored by SHA-256 in the evidence store; the file name is sanitised."""
    load_incident(gate, user, incident_id, Action.INCIDENT_ATTACH)
    data = file.file.read(workflow.config.attachment_max_bytes + 1)
    with _client_errors():
        return workflow.add_attachment(incident_id, data, file.filename, file.content_type, user.username)


@router.get(
    _INCIDENT + "/attachments/{attachment_id}",
    response_class=Response,
    summary="An attachment's bytes (evidence; each view audited)",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_attachment(
    incident_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    workflow: WorkflowRoom,
    audit: AuditRoom,
    gate: GateRoom,
) -> Response:
    """The bytes with their media type; images inline, anything else as a download."""
    load_incident(gate, user, incident_id, Action.EVIDENCE_VIEW)
    attachment, data = workflow.attachment(incident_id, attachment_id)
    detail = {"incident_id": str(incident_id), "sha256": attachment.sha256, "client": client_host(request)}
    audit.record(user.username, "evidence.view", f"attachment:{attachment_id}", detail)
    disposition = "inline" if attachment.content_type.startswith("image/") else "attachment"
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.filename)}"}
    return Response(content=data, media_type=attachment.content_type, headers=headers)


@router.get(_INCIDENT + "/timeline", response_model=list[TimelineEntry], summary="An incident's history")
def get_timeline(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    workflow: WorkflowRoom,
    gate: GateRoom,
) -> list[TimelineEntry]:
    """Every recorded step, oldest first: state changes, assignments, notes, tasks, escalations..."""
    load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    return workflow.timeline(incident_id)


@router.get(_INCIDENT + "/tasks", response_model=list[Task], summary="An incident's tasks")
def get_incident_tasks(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    tasks: TasksRoom,
    gate: GateRoom,
) -> list[Task]:
    """Oldest first."""
    load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    return tasks.list_tasks(incident_id)


@router.post(
    _INCIDENT + "/tasks", response_model=Task, status_code=status.HTTP_201_CREATED, summary="Task an agency"
)
def post_task(
    incident_id: uuid.UUID,
    body: TaskRequest,
    user: Annotated[User, Depends(permit(Action.TASK_CREATE))],
    tasks: TasksRoom,
    gate: GateRoom,
) -> Task:
    """Also shares the incident with the tasked agency; 422 for an unregistered agency or a past due time."""
    load_incident(gate, user, incident_id, Action.TASK_CREATE)
    with _client_errors():
        return tasks.create_task(
            incident_id,
            body.agency_code,
            body.title,
            body.due_at,
            user.username,
            unit=body.unit,
            instructions=body.instructions,
        )


@router.get(
    "/api/v1/tasks", response_model=list[Task], summary="Tasks of your agency (or all, for commanders)"
)
def get_tasks(
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    gate: GateRoom,
    tasks: TasksRoom,
    agency_code: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Only this agency's (commanders, admins)."),
    ] = None,
    open_only: Annotated[bool, Query(description="Only open and acknowledged tasks.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most tasks returned.")] = 500,
) -> list[Task]:
    """Earliest due first, only on incidents you may view."""
    sees_all = bool(_ALL_TASKS_ROLES.intersection(user.roles))
    if not sees_all:
        if agency_code not in (None, user.agency_code):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"you may list only the tasks of {user.agency_code}"
            )
        agency_code = user.agency_code
    listed = tasks.list_agency_tasks(agency_code, open_only=open_only, limit=limit)
    return _on_visible_incidents(gate, user, listed)


def _on_visible_incidents(gate: Gate, user: User, tasks: list[Task]) -> list[Task]:
    incidents = [gate.incidents.get(i) for i in dict.fromkeys(task.incident_id for task in tasks)]
    visible, _grants = gate.sharing.visible(user, [i for i in incidents if i is not None])
    ids = {incident.id for incident in visible}
    return [task for task in tasks if task.incident_id in ids]


@router.post("/api/v1/tasks/{task_id}/state", response_model=Task, summary="Change a task's state")
def post_task_state(
    task_id: uuid.UUID,
    body: TaskStateRequest,
    user: Annotated[User, Depends(permit(Action.TASK_UPDATE))],
    tasks: TasksRoom,
    gate: GateRoom,
) -> Task:
    """Every user acts on their own agency's tasks (commanders and administrators on any); 409 names
    the allowed states, 422 when declining or reporting progress without a reason."""
    task = tasks.get_task(task_id)
    load_incident(gate, user, task.incident_id, Action.TASK_UPDATE)
    with _client_errors():
        return tasks.update_task_state(task_id, body.state, user, body.reason)
