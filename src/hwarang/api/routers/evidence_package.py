"""``/api/v1/incidents/{id}/package``: an incident's evidence package (ZIP), each export audited."""

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from hwarang.api.access import Action, load_incident, permit
from hwarang.api.auth import client_host
from hwarang.api.rooms import DatabaseRoom, EvidenceRoom, GateRoom
from hwarang.domain import User
from hwarang.hub.evidence.package import export_package

router = APIRouter(tags=["evidence"])

MANIFEST_HEADER = "X-Hwarang-Manifest-SHA256"


@router.get(
    "/api/v1/incidents/{incident_id}/package",
    response_class=FileResponse,
    summary="Export an incident as an evidence package",
    responses={
        200: {
            "content": {"application/zip": {}},
            "description": f"The ZIP; the manifest's SHA-256 is in the {MANIFEST_HEADER} header.",
        },
        403: {"description": "The user may not see this incident's evidence."},
        404: {"description": "No such incident."},
    },
)
def get_package(
    incident_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.EVIDENCE_VIEW))],
    evidence: EvidenceRoom,
    database: DatabaseRoom,
    gate: GateRoom,
) -> FileResponse:
    """Incident, events, timeline, notes, tasks, attachments, snapshots and audit excerpt, with a manifest.

    Audited as ``evidence.export`` with the manifest's SHA-256.
    """
    load_incident(gate, user, incident_id, Action.EVIDENCE_VIEW)
    workdir = Path(tempfile.mkdtemp(prefix="hwarang-package-"))
    name = f"incident-{incident_id}.zip"
    try:
        built = export_package(
            database,
            evidence,
            incident_id,
            workdir / name,
            creator=user.username,
            detail={"client": client_host(request)},
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        built.path,
        media_type="application/zip",
        filename=name,
        headers={MANIFEST_HEADER: built.manifest_sha256},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )
