"""``/api/v1/incidents``: what the situation room works on."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from hwarang.api.auth import require_user
from hwarang.api.context import ApiContext, get_context
from hwarang.domain import Incident

MAX_NEAR_RADIUS_M = 1_000_000.0

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Depends(require_user)])


@router.get("", response_model=list[Incident], summary="List incidents, newest change first")
def list_incidents(
    context: Annotated[ApiContext, Depends(get_context)],
    limit: Annotated[int, Query(ge=1, le=1000, description="Most incidents returned.")] = 200,
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
    """Incidents with ``seq > after_seq``, newest first; ``near`` keeps those around a point."""
    if near is None:
        return context.service.list_incidents(
            limit=limit, after_seq=after_seq, include_exercise=include_exercise
        )
    lat, lon, radius_m = _parse_near(near)
    return context.service.incidents_near(
        lat, lon, radius_m, limit=limit, after_seq=after_seq, include_exercise=include_exercise
    )


@router.get("/{incident_id}", response_model=Incident, summary="One incident")
def get_incident(incident_id: uuid.UUID, context: Annotated[ApiContext, Depends(get_context)]) -> Incident:
    """The incident, or 404."""
    incident = context.service.get_incident(incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"incident {incident_id} not found")
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
