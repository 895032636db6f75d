"""``/api/v1/snapshots/{sha256}``: evidence images, each view audited.

A snapshot is shown only to a user who may see evidence of an incident holding it (the incident's
own snapshot or one of its events'); a grant that allowed it is audited as ``grant.use``.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse

from hwarang.api.access import audit_grant_use, permit, refuse, visible_reads
from hwarang.api.auth import client_host
from hwarang.api.rooms import AuditRoom, EvidenceRoom, GateRoom
from hwarang.domain import User
from hwarang.hub.sharing.policy import Action

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

router = APIRouter(prefix="/api/v1/snapshots", tags=["evidence"])


@router.get(
    "/{sha256}",
    response_class=FileResponse,
    summary="A snapshot JPEG by its SHA-256",
    responses={
        200: {"content": {"image/jpeg": {}}},
        400: {"description": "Not a SHA-256 hex digest."},
        403: {"description": "The snapshot belongs to no incident whose evidence you may see."},
    },
)
def get_snapshot(
    sha256: str,
    request: Request,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    evidence: EvidenceRoom,
    audit: AuditRoom,
    gate: GateRoom,
) -> FileResponse:
    """The JPEG bytes; 400 for a malformed hash, 404 when the hub does not hold it, 403 when not yours."""
    digest = sha256.lower()
    if not _SHA256.fullmatch(digest):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="sha256 must be 64 hexadecimal characters")
    path = evidence.path(digest)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"snapshot {digest} not found")
    target = f"snapshot:{digest}"
    access = visible_reads(gate).snapshot(user, digest)
    if not access.decision.allowed:
        raise refuse(gate, user, Action.EVIDENCE_VIEW, target, access.decision.reason)
    if access.decision.grant_id is not None:
        audit_grant_use(gate, user, {access.decision.grant_id}, Action.EVIDENCE_VIEW, target)
    detail = {
        "client": client_host(request),
        "incident_id": None if access.incident_id is None else str(access.incident_id),
    }
    audit.record(user.username, "evidence.view", target, detail)
    return FileResponse(path, media_type="image/jpeg")
