"""Partner formats: incidents as CAP 1.2, Cursor-on-Target and GeoJSON; external detections in."""

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import ValidationError

from hwarang.api.access import Action, audit_grant_use, load_incident, permit, refuse, visible_reads
from hwarang.api.auth import require_user
from hwarang.api.cap_sent import AuditSentAlerts
from hwarang.api.rooms import AuditRoom, CamerasRoom, Gate, GateRoom, IngestRoom
from hwarang.api.routers.events import IngestResponse
from hwarang.domain import Incident, User
from hwarang.hub.evidence.log import AuditLog
from hwarang.hub.sharing.binding import event_post_refusal
from hwarang.hub.sharing.policy import in_jurisdiction
from hwarang.interop.cap import DEFAULT_SENDER
from hwarang.interop.cot import DEFAULT_STALE_S
from hwarang.interop.errors import CotError
from hwarang.interop.exporters import EXPORTERS, ExportRequest, GeoJsonExporterConfig, build_exporter
from hwarang.interop.external import ExternalDetection, detection_to_event_message

logger = logging.getLogger(__name__)

CAP_MEDIA_TYPE = "application/cap+xml"
COT_MEDIA_TYPE = "application/xml"
GEOJSON_MEDIA_TYPE = "application/geo+json"
CAP_SENDER = DEFAULT_SENDER

router = APIRouter(prefix="/api/v1", tags=["interop"], dependencies=[Depends(require_user)])


def _load(gate: Gate, user: User, incident_id: uuid.UUID) -> Incident:
    """The incident ``user`` may export: 404 when missing, 403 with the reason when not entitled."""
    return load_incident(gate, user, incident_id, Action.INCIDENT_EXPORT)


def _load_many(
    gate: Gate, user: User, *, limit: int, after_seq: int, include_exercise: bool
) -> list[Incident]:
    """The incidents ``user`` may export, newest change first (others are left out; grant use audited)."""
    reads = visible_reads(gate)
    viewable = reads.incidents(user, limit=limit, after_seq=after_seq, include_exercise=include_exercise)
    exportable = reads.filter_incidents(user, viewable.items, Action.INCIDENT_EXPORT)
    audit_grant_use(gate, user, exportable.grant_ids, Action.INCIDENT_EXPORT, "incidents.geojson")
    return exportable.items


def _audit_export(audit: AuditLog, user: User, incident: Incident, fmt: str) -> None:
    audit.record(user.username, "interop.export", f"incident:{incident.id}", {"format": fmt})


StaleSeconds = Annotated[float, Query(gt=0, le=86_400, description="Seconds a CoT / TAK event stays valid.")]


def _export(
    fmt: str, incident_id: uuid.UUID, user: User, audit: AuditLog, gate: Gate, request: ExportRequest
) -> Response:
    """One incident in format ``fmt`` from the exporter registry, audited; 409 when it cannot be expressed."""
    exporter = build_exporter(fmt)
    incident = _load(gate, user, incident_id)
    try:
        body = exporter.export(incident, request)
    except CotError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    _audit_export(audit, user, incident, fmt)
    return Response(body, media_type=exporter.media_type)


def _export_request(request: Request, audit: AuditLog, stale_s: float = DEFAULT_STALE_S) -> ExportRequest:
    return ExportRequest(
        now=datetime.now(UTC),
        stale_s=stale_s,
        web_base_url=str(request.base_url),
        sent_alerts=AuditSentAlerts(audit),
    )


@router.get(
    "/incidents/{incident_id}/export/{fmt}",
    summary="One incident in any registered export format",
    response_class=Response,
    responses={404: {"description": "No such incident or format."}, 409: {"description": "No position yet."}},
)
def get_incident_export(
    incident_id: uuid.UUID,
    fmt: str,
    request: Request,
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    audit: AuditRoom,
    gate: GateRoom,
    stale_s: StaleSeconds = DEFAULT_STALE_S,
) -> Response:
    """The incident in format ``fmt`` (one of ``EXPORTERS.types``: cap, cot, geojson, tak-protobuf)."""
    if fmt not in EXPORTERS.types:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"unknown export format {fmt!r}; known: {', '.join(EXPORTERS.types)}",
        )
    return _export(fmt, incident_id, user, audit, gate, _export_request(request, audit, stale_s))


@router.get(
    "/incidents/{incident_id}/cap",
    summary="One incident as a CAP 1.2 alert",
    response_class=Response,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}},
)
def get_incident_cap(
    incident_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    audit: AuditRoom,
    gate: GateRoom,
) -> Response:
    """The incident's current state as a validated CAP 1.2 alert (times in KST).

    It references every alert the hub sent about the incident before (Update / Cancel), expires by
    the CAP policy and links the incident's page on this hub (``<web>``).
    """
    return _export("cap", incident_id, user, audit, gate, _export_request(request, audit))


@router.get(
    "/incidents/{incident_id}/cot",
    summary="One incident as a Cursor-on-Target XML event",
    response_class=Response,
    responses={200: {"content": {COT_MEDIA_TYPE: {}}}, 409: {"description": "No position yet."}},
)
def get_incident_cot(
    incident_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    audit: AuditRoom,
    gate: GateRoom,
    stale_s: StaleSeconds = DEFAULT_STALE_S,
) -> Response:
    """A CoT 2.0 event valid from now for ``stale_s`` seconds; 409 when the position is unknown."""
    return _export("cot", incident_id, user, audit, gate, _export_request(request, audit, stale_s))


@router.get(
    "/incidents/{incident_id}/cot.pb",
    summary="One incident as TAK protocol v1 protobuf (stream framing)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 409: {"description": "No position yet."}},
)
def get_incident_tak_protobuf(
    incident_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    audit: AuditRoom,
    gate: GateRoom,
    stale_s: StaleSeconds = DEFAULT_STALE_S,
) -> Response:
    """``0xbf``, a varint length and a ``TakMessage``; 409 when the position is unknown."""
    return _export("tak-protobuf", incident_id, user, audit, gate, _export_request(request, audit, stale_s))


@router.get(
    "/incidents/{incident_id}/geojson",
    summary="One incident as a GeoJSON Feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}},
)
def get_incident_geojson(
    incident_id: uuid.UUID,
    request: Request,
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    audit: AuditRoom,
    gate: GateRoom,
) -> Response:
    """A Feature whose geometry is the incident's Point, or null while its position is unknown."""
    return _export("geojson", incident_id, user, audit, gate, _export_request(request, audit))


@router.get(
    "/incidents.geojson",
    summary="Incidents as a GeoJSON FeatureCollection",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}},
)
def list_incidents_geojson(
    user: Annotated[User, Depends(permit(Action.INCIDENT_EXPORT))],
    gate: GateRoom,
    audit: AuditRoom,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most incidents returned.")] = 200,
    after_seq: Annotated[int, Query(ge=0, description="Only incidents changed after this seq.")] = 0,
    include_exercise: Annotated[bool, Query(description="Include exercise incidents.")] = False,
) -> Response:
    """Point features, newest change first; incidents without a position are counted, not listed."""
    incidents = _load_many(gate, user, limit=limit, after_seq=after_seq, include_exercise=include_exercise)
    body = GeoJsonExporterConfig().build().export_many(incidents)
    audit.record(user.username, "interop.export", "incidents", {"format": "geojson", "count": len(incidents)})
    return Response(body, media_type=GEOJSON_MEDIA_TYPE)


@router.post(
    "/detections",
    response_model=IngestResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Ingest another vendor's detection (201 new, 200 duplicate)",
    responses={200: {"description": "The detection was already known; nothing changed."}},
)
def post_detection(
    detection: ExternalDetection,
    response: Response,
    user: Annotated[User, Depends(permit(Action.EVENT_INGEST))],
    ingest: IngestRoom,
    cameras: CamerasRoom,
    audit: AuditRoom,
    gate: GateRoom,
) -> IngestResponse:
    """Convert the detection to an edge event and ingest it the same way (idempotent).

    Only from registered sources: the camera must be known to the hub (its center is the event's
    unless the detection names one) and bound to the poster like a posted event. 403 otherwise,
    or when the detection's area lies outside the user's jurisdiction.
    """
    target = f"camera:{detection.camera_id}"
    if not in_jurisdiction(user, detection.sigungu_code):
        reason = (
            f"detection in {detection.sigungu_code} is outside your jurisdiction {user.jurisdiction_code}"
        )
        raise refuse(gate, user, Action.EVENT_INGEST, target, reason)
    camera = cameras.get(detection.camera_id)
    if camera is None:
        reason = (
            f"camera {detection.camera_id} is not registered at this hub: detections only from known cameras"
        )
        raise refuse(gate, user, Action.EVENT_INGEST, target, reason)
    if detection.center_id is None:
        detection = detection.model_copy(update={"center_id": camera.center_id})
    try:
        message = detection_to_event_message(detection)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    refusal = event_post_refusal(user, message.event, camera)
    if refusal is not None:
        raise refuse(gate, user, Action.EVENT_INGEST, target, refusal)
    result = ingest.event(message)
    incident_id = result.incident.id if result.incident is not None else None
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    else:
        audit.record(
            user.username,
            "detection.post",
            f"event:{result.event_id}",
            {
                "vendor": detection.vendor,
                "label": detection.label,
                "object_class": message.event.object_class.value,
                "camera_id": detection.camera_id,
                "incident_id": str(incident_id) if incident_id else None,
            },
        )
    logger.info(
        "detection from %s posted by %s as event %s (duplicate=%s)",
        detection.vendor,
        user.username,
        result.event_id,
        result.duplicate,
    )
    return IngestResponse(event_id=result.event_id, duplicate=result.duplicate, incident_id=incident_id)
