"""``/api/v1/events``: events reported by edge rules (read, or post one like an edge would).

Events are evidence (imagery, positions, tracks): a user sees an event only when they may see
evidence of the incident it belongs to; posting needs ``event.ingest`` in the event's area.
"""

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from hwarang.api.access import audit_grant_use, permit, refuse, visible_reads
from hwarang.api.rooms import AuditRoom, CamerasRoom, GateRoom, IngestRoom
from hwarang.domain import Event, EventMessage, User
from hwarang.hub.sharing.binding import event_post_refusal
from hwarang.hub.sharing.policy import Action

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/events", tags=["events"])


class IngestResponse(BaseModel):
    """What posting an event did."""

    event_id: uuid.UUID
    duplicate: bool
    incident_id: uuid.UUID | None


@router.get("", response_model=list[Event], summary="List events, newest first")
def list_events(
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    gate: GateRoom,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events returned.")] = 200,
    camera_id: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Only this camera's events.")
    ] = None,
) -> list[Event]:
    """Recent events the user may see evidence of, optionally of one camera."""
    visible = visible_reads(gate).events(user, limit=limit, camera_id=camera_id)
    audit_grant_use(gate, user, visible.grant_ids, Action.EVIDENCE_VIEW, "events:list")
    return visible.items


@router.get("/{event_id}", response_model=Event, summary="One event")
def get_event(
    event_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    audit: AuditRoom,
    gate: GateRoom,
) -> Event:
    """The event; 404 when missing, 403 when the user may not see its incident's evidence."""
    found = visible_reads(gate).event(user, event_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"event {event_id} not found")
    event, access = found
    target = f"event:{event_id}"
    if not access.decision.allowed:
        raise refuse(gate, user, Action.EVIDENCE_VIEW, target, access.decision.reason)
    if access.decision.grant_id is not None:
        audit_grant_use(gate, user, {access.decision.grant_id}, Action.EVIDENCE_VIEW, target)
    detail = {"incident_id": str(access.incident_id) if access.incident_id else None}
    audit.record(user.username, "evidence.view", target, detail)
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
    user: Annotated[User, Depends(permit(Action.EVENT_INGEST))],
    ingest: IngestRoom,
    cameras: CamerasRoom,
    audit: AuditRoom,
    gate: GateRoom,
) -> IngestResponse:
    """Ingest an ``EventMessage`` (idempotent on event id).

    403 outside the user's jurisdiction, for another center than the user's agency, or for a camera
    the hub knows as another center's or in another place (docs/security.md).
    """
    reason = event_post_refusal(user, message.event, cameras.get(message.event.camera_id))
    if reason is not None:
        raise refuse(gate, user, Action.EVENT_INGEST, f"event:{message.event.id}", reason)
    result = ingest.event(message)
    incident_id = result.incident.id if result.incident is not None else None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    else:
        audit.record(
            user.username,
            "event.post",
            f"event:{result.event_id}",
            {"incident_id": str(incident_id) if incident_id else None, "camera_id": message.event.camera_id},
        )
    logger.info("event %s posted by %s (duplicate=%s)", result.event_id, user.username, result.duplicate)
    return IngestResponse(event_id=result.event_id, duplicate=result.duplicate, incident_id=incident_id)
