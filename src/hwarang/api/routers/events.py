"""``/api/v1/events``: events reported by edge rules (read, or post one like an edge would)."""

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from hwarang.api.auth import require_roles, require_user
from hwarang.api.context import ApiContext, get_context
from hwarang.domain import Event, EventMessage, Role, User

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/events", tags=["events"], dependencies=[Depends(require_user)])


class IngestResponse(BaseModel):
    """What posting an event did."""

    event_id: uuid.UUID
    duplicate: bool
    incident_id: uuid.UUID | None


@router.get("", response_model=list[Event], summary="List events, newest first")
def list_events(
    context: Annotated[ApiContext, Depends(get_context)],
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events returned.")] = 200,
    camera_id: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Only this camera's events.")
    ] = None,
) -> list[Event]:
    """Recent events, optionally of one camera."""
    return context.service.list_events(limit=limit, camera_id=camera_id)


@router.get("/{event_id}", response_model=Event, summary="One event")
def get_event(event_id: uuid.UUID, context: Annotated[ApiContext, Depends(get_context)]) -> Event:
    """The event, or 404."""
    event = context.service.get_event(event_id)
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"event {event_id} not found")
    return event


@router.post(
    "",
    response_model=IngestResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Ingest an event (201 new, 200 duplicate)",
    responses={200: {"description": "The event was already known; nothing changed."}},
)
def post_event(
    message: EventMessage,
    response: Response,
    user: Annotated[User, Depends(require_roles(Role.OPERATOR, Role.ADMIN))],
    context: Annotated[ApiContext, Depends(get_context)],
) -> IngestResponse:
    """Ingest an ``EventMessage`` (idempotent on event id)."""
    result = context.service.ingest(message)
    incident_id = result.incident.id if result.incident is not None else None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    else:
        context.service.audit(
            user.username,
            "event.post",
            f"event:{result.event_id}",
            {"incident_id": str(incident_id) if incident_id else None, "camera_id": message.event.camera_id},
        )
    logger.info("event %s posted by %s (duplicate=%s)", result.event_id, user.username, result.duplicate)
    return IngestResponse(event_id=result.event_id, duplicate=result.duplicate, incident_id=incident_id)
