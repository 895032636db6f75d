"""``/api/v1/events/{event_id}/clip``: an event's video clip, seen only through that event.

The clip is served to a user who may see the evidence of the event's incident (need-to-know,
jurisdiction, grants: the same decision as the event itself); each view is audited as
``evidence.view`` on ``clip:<sha256>``. 404 with ``clip arriving`` while the edge's clip has not
reached the hub yet (it follows the event by the clip's ``post_s``).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse

from hwarang.api.access import audit_grant_use, permit, refuse, visible_reads
from hwarang.api.auth import client_host
from hwarang.api.rooms import AuditRoom, EvidenceRoom, GateRoom
from hwarang.domain import User
from hwarang.hub.evidence.clips import clip_store
from hwarang.hub.sharing.policy import Action

CLIP_ARRIVING = "clip arriving"

router = APIRouter(prefix="/api/v1/events", tags=["evidence"])


@router.get(
    "/{event_id}/clip",
    response_class=FileResponse,
    summary="The event's clip (MP4, H.264)",
    responses={
        200: {"content": {"video/mp4": {}}},
        403: {"description": "The event belongs to no incident whose evidence you may see."},
        404: {"description": "No such event, or its clip has not arrived (detail: 'clip arriving')."},
    },
)
def get_event_clip(
    event_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    evidence: EvidenceRoom,
    audit: AuditRoom,
    gate: GateRoom,
) -> FileResponse:
    """The MP4 bytes (byte ranges supported, so the page can seek)."""
    found = visible_reads(gate).event(user, event_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"event {event_id} not found")
    event, access = found
    if not access.decision.allowed:
        raise refuse(gate, user, Action.EVIDENCE_VIEW, f"event:{event_id}", access.decision.reason)
    path = clip_store(evidence).path(event.clip.sha256) if event.clip is not None else None
    if event.clip is None or path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=CLIP_ARRIVING)
    target = f"clip:{event.clip.sha256}"
    if access.decision.grant_id is not None:
        audit_grant_use(gate, user, {access.decision.grant_id}, Action.EVIDENCE_VIEW, target)
    # Each range request of one playback is a view; audit the first (no Range or from byte 0).
    if request.headers.get("range", "bytes=0-").startswith("bytes=0-"):
        detail = {
            "client": client_host(request),
            "event_id": str(event_id),
            "incident_id": None if access.incident_id is None else str(access.incident_id),
        }
        audit.record(user.username, "evidence.view", target, detail)
    return FileResponse(path, media_type="video/mp4")
