"""``/api/v1/incidents``: what the situation room works on."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from hwarang.api.auth import require_user
from hwarang.api.context import ApiContext, get_context
from hwarang.domain import Incident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Depends(require_user)])


@router.get("", response_model=list[Incident], summary="List incidents, newest change first")
def list_incidents(
    context: Annotated[ApiContext, Depends(get_context)],
    limit: Annotated[int, Query(ge=1, le=1000, description="Most incidents returned.")] = 200,
    after_seq: Annotated[int, Query(ge=0, description="Only incidents changed after this seq.")] = 0,
    include_exercise: Annotated[bool, Query(description="Include exercise incidents.")] = False,
) -> list[Incident]:
    """Incidents with ``seq > after_seq``, newest first."""
    return context.service.list_incidents(limit=limit, after_seq=after_seq, include_exercise=include_exercise)


@router.get("/{incident_id}", response_model=Incident, summary="One incident")
def get_incident(incident_id: uuid.UUID, context: Annotated[ApiContext, Depends(get_context)]) -> Incident:
    """The incident, or 404."""
    incident = context.service.get_incident(incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"incident {incident_id} not found")
    return incident
