"""``/api/v1/snapshots/{sha256}``: evidence images, each view audited."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse

from hwarang.api.auth import client_host, require_user
from hwarang.api.context import ApiContext, get_context
from hwarang.domain import User

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

router = APIRouter(prefix="/api/v1/snapshots", tags=["evidence"], dependencies=[Depends(require_user)])


@router.get(
    "/{sha256}",
    response_class=FileResponse,
    summary="A snapshot JPEG by its SHA-256",
    responses={200: {"content": {"image/jpeg": {}}}, 400: {"description": "Not a SHA-256 hex digest."}},
)
def get_snapshot(
    sha256: str,
    request: Request,
    user: Annotated[User, Depends(require_user)],
    context: Annotated[ApiContext, Depends(get_context)],
) -> FileResponse:
    """The JPEG bytes; 400 for a malformed hash, 404 when the hub does not hold it."""
    digest = sha256.lower()
    if not _SHA256.fullmatch(digest):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="sha256 must be 64 hexadecimal characters")
    path = context.service.snapshot_path(digest)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"snapshot {digest} not found")
    context.service.audit(
        user.username, "evidence.view", f"snapshot:{digest}", {"client": client_host(request)}
    )
    return FileResponse(path, media_type="image/jpeg")
