"""``/api/v1/drones``: Remote ID and own-unit telemetry in; tracks, alerts, GeoJSON and CoT out.

Posting needs ``event.ingest`` (what an edge or receiver does); reading needs ``incident.view``.
Alerts above the user's clearance are left out. See docs/drones.md.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hwarang.api.access import permit, refuse
from hwarang.api.drone_intake import RemoteIdBatch, RemoteIdResult, intake_for
from hwarang.api.rooms import AuditRoom, DronesRoom, GateRoom
from hwarang.domain import DroneAlert, DroneReport, DroneSource, DroneTrack, User
from hwarang.domain.base import SCHEMA_VERSION
from hwarang.domain.drone import PRINTABLE_TEXT
from hwarang.hub.sharing.policy import Action, cleared_for
from hwarang.interop.drone_cot import DEFAULT_STALE_S, drones_cot_document
from hwarang.interop.drone_geojson import drone_tracks_to_feature_collection

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["drones"])

GEOJSON_MEDIA_TYPE = "application/geo+json"
COT_MEDIA_TYPE = "application/xml"


class FriendlyReport(BaseModel):
    """A position report of one of our own drones or ground robots (as MAVLink telemetry gives it)."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=PRINTABLE_TEXT,
        description="Our unit's id, e.g. 'sys7' or 'robot-3'.",
    )
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    alt_m: float | None = None
    height_m: float | None = None
    speed_ms: float | None = Field(default=None, ge=0.0)
    heading_deg: float | None = Field(default=None, ge=0.0, lt=360.0)
    vert_speed_ms: float | None = None
    time: AwareDatetime
    ua_type: str | None = Field(
        default=None, max_length=64, pattern=PRINTABLE_TEXT, description="E.g. 'quadrotor', 'ground_rover'."
    )


class TelemetryBatch(BaseModel):
    """Reports of our own units."""

    model_config = ConfigDict(extra="forbid")

    reports: list[FriendlyReport] = Field(min_length=1, max_length=5000)


class TelemetryResult(BaseModel):
    """What a telemetry batch did."""

    schema_version: int = SCHEMA_VERSION
    accepted: int
    out_of_order: int


@router.post(
    "/drones/remote-id",
    response_model=RemoteIdResult,
    summary="Post Remote ID captures (hex or base64 per receiver item)",
    responses={422: {"description": "Some items were bad (listed by index); the good ones were applied."}},
)
def post_remote_id(
    batch: RemoteIdBatch,
    user: Annotated[User, Depends(permit(Action.EVENT_INGEST))],
    audit: AuditRoom,
    drones: DronesRoom,
) -> Response:
    """Decode and apply every item; 422 lists the bad messages by item index (nothing else is lost)."""
    result = intake_for(drones).apply(batch.items)
    audit.record(
        user.username,
        "drones.remote_id",
        "drones",
        {"items": result.items, "reports": result.reports, "errors": len(result.errors)},
    )
    if not result.errors:
        return JSONResponse(result.model_dump(mode="json"))
    message = "; ".join(f"items.{e.index}: {e.error}" for e in result.errors[:20])
    body = {
        "detail": [
            {"loc": ["body", "items", e.index], "msg": e.error, "type": "remote_id", "offset": e.offset}
            for e in result.errors
        ],
        "message": message,
        "result": result.model_dump(mode="json"),
    }
    return JSONResponse(status_code=422, content=body)


@router.post("/drones/telemetry", response_model=TelemetryResult, summary="Post own units' telemetry")
def post_telemetry(
    batch: TelemetryBatch,
    user: Annotated[User, Depends(permit(Action.EVENT_INGEST))],
    audit: AuditRoom,
    drones: DronesRoom,
    gate: GateRoom,
) -> TelemetryResult:
    """Apply friendly reports (our drones and ground robots, shown as friendly units).

    403 when a unit belongs to another agency (``hub.drones.friendly_units``, else first claim).
    """
    for item in batch.reports:
        refusal = drones.owners.refusal(item.unit_id, user.agency_code)
        if refusal is not None:
            raise refuse(gate, user, Action.EVENT_INGEST, f"drone:mavlink:{item.unit_id}", refusal)
    reports = [
        DroneReport(
            source=DroneSource.MAVLINK,
            track_id=item.unit_id,
            friendly=True,
            **item.model_dump(exclude={"unit_id"}),
        )
        for item in batch.reports
    ]
    result = drones.apply(reports)
    audit.record(user.username, "drones.telemetry", "drones", {"reports": len(reports)})
    return TelemetryResult(accepted=result.accepted, out_of_order=result.out_of_order)


@router.get("/drones", response_model=list[DroneTrack], summary="Current drone and robot tracks")
def list_tracks(
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    drones: DronesRoom,
    include_stale: Annotated[bool, Query(description="Also tracks not heard for a while.")] = True,
    history: Annotated[bool, Query(description="Include each track's history points.")] = False,
) -> list[DroneTrack]:
    """Tracks, most recently heard first (history left out unless asked for)."""
    tracks = drones.tracks(include_stale=include_stale)
    return tracks if history else [track.model_copy(update={"history": ()}) for track in tracks]


@router.get("/drones/alerts", response_model=list[DroneAlert], summary="Geofence and visual drone alerts")
def list_alerts(
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    drones: DronesRoom,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    uas_id: Annotated[str | None, Query(max_length=64, description="Only this drone's.")] = None,
) -> list[DroneAlert]:
    """Alerts, newest first, up to the user's clearance."""
    alerts = drones.alerts(limit=limit, uas_id=uas_id)
    return [alert for alert in alerts if cleared_for(user, alert.classification)]


@router.get("/drones/tracks.geojson", summary="Drone tracks, positions and operators as GeoJSON")
def tracks_geojson(
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    drones: DronesRoom,
    include_stale: Annotated[bool, Query(description="Also tracks not heard for a while.")] = False,
) -> Response:
    """FeatureCollection: history lines, latest positions, operators (``properties.kind``)."""
    document = drone_tracks_to_feature_collection(drones.tracks(include_stale=include_stale))
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type=GEOJSON_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


@router.get("/drones.cot", summary="Drone tracks and operators as Cursor-on-Target XML")
def tracks_cot(
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    drones: DronesRoom,
    stale_s: Annotated[
        float, Query(gt=0, le=3600, description="Seconds TAK keeps each marker.")
    ] = DEFAULT_STALE_S,
) -> Response:
    """One ``<events>`` document of CoT events: a drone track each, plus operators on the ground."""
    tracks = drones.tracks(include_stale=False)
    return Response(
        drones_cot_document(tracks, now=datetime.now(UTC), stale_s=stale_s), media_type=COT_MEDIA_TYPE
    )
