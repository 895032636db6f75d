"""``/api/v1/incidents``: what the situation room works on, filtered by need-to-know."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from hwarang.api.access import audit_grant_use, load_incident, permit, visible_reads
from hwarang.api.rooms import AuditRoom, GateRoom, IncidentsRoom
from hwarang.domain import Incident, User
from hwarang.hub.sharing.policy import Action

MAX_NEAR_RADIUS_M = 1_000_000.0
MAX_LIST_LIMIT = 5000
"""Most incidents one list returns (the map loads a whole jurisdiction's open picture at once)."""

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
NEAR_CANDIDATES = 1000
"""Incidents fetched around a point before need-to-know filtering."""


@router.get("", response_model=list[Incident], summary="List incidents, newest change first")
def list_incidents(
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    incidents: IncidentsRoom,
    gate: GateRoom,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="Most incidents returned.")] = 200,
    after_seq: Annotated[int, Query(ge=0, description="Only incidents changed after this seq.")] = 0,
    include_exercise: Annotated[bool, Query(description="Include exercise incidents.")] = False,
    near: Annotated[
        str | None,
        Query(
            description="Only incidents within radius_m metres of a WGS84 point: 'lat,lon,radius_m'.",
            examples=["37.5636,126.9976,500"],
        ),
    ] = None,
) -> list[Incident]:
    """Incidents the user may view with ``seq > after_seq``, newest first; ``near``: around a point."""
    reads = visible_reads(gate)
    if near is None:
        visible = reads.incidents(user, limit=limit, after_seq=after_seq, include_exercise=include_exercise)
    else:
        lat, lon, radius_m = _parse_near(near)
        candidates = incidents.near(
            lat, lon, radius_m, limit=NEAR_CANDIDATES, after_seq=after_seq, include_exercise=include_exercise
        )
        visible = reads.filter_incidents(user, candidates)
        visible.items[limit:] = []
    audit_grant_use(gate, user, visible.grant_ids, Action.INCIDENT_VIEW, "incidents:list")
    return visible.items


@router.get("/{incident_id}", response_model=Incident, summary="One incident")
def get_incident(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    audit: AuditRoom,
    gate: GateRoom,
) -> Incident:
    """The incident; 404 when missing, 403 when the user may not view it (audited either way)."""
    incident = load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    audit.record(user.username, "incident.view", f"incident:{incident_id}", {})
    return incident


def _parse_near(near: str) -> tuple[float, float, float]:
    """``"lat,lon,radius_m"`` as numbers, or 422 saying what is wrong."""
    parts = near.split(",")
    try:
        lat, lon, radius_m = (float(part) for part in parts)
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"near must be 'lat,lon,radius_m', got {near!r}"
        ) from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and 0.0 <= radius_m <= MAX_NEAR_RADIUS_M):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"near needs -90 <= lat <= 90, -180 <= lon <= 180 and 0 <= radius_m <= "
            f"{MAX_NEAR_RADIUS_M:.0f}, got {near!r}",
        )
    return lat, lon, radius_m
