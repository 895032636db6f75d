"""Fusion by hand: merge incidents into one, split events off into a new incident.

Both need :attr:`Action.INCIDENT_MERGE` (commanders, administrators) on every incident involved.
409 says why a merge or split is refused (see :mod:`hwarang.hub.fusion.regroup`).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from hwarang.api.access import Action, load_incident, permit
from hwarang.api.rooms import GateRoom, IngestRoom
from hwarang.domain import DomainModel, Incident, User

router = APIRouter(tags=["fusion"])

_INCIDENT = "/api/v1/incidents/{incident_id}"
_MAX_IDS = 500


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MergeRequest(_Request):
    """Incidents to fold into the one in the path."""

    source_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=_MAX_IDS, description="Incidents whose events move into this one."
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why; kept in the incident history.")


class SplitRequest(_Request):
    """Events to move out of the incident in the path into a new incident."""

    event_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=_MAX_IDS, description="Events of this incident that form the new one."
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why; kept in the incident history.")


class SplitResult(DomainModel):
    """Both incidents after a split."""

    incident: Incident = Field(description="The incident split, with the events it kept.")
    split_off: Incident = Field(description="The new incident of the events moved out.")


@router.post(_INCIDENT + "/merge", response_model=Incident, summary="Merge incidents into this one")
def post_merge(
    incident_id: uuid.UUID,
    body: MergeRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_MERGE))],
    ingest: IngestRoom,
    gate: GateRoom,
) -> Incident:
    """The merged incident; the sources keep their history and point at it (``merged_into``)."""
    for involved in dict.fromkeys([incident_id, *body.source_ids]):
        load_incident(gate, user, involved, Action.INCIDENT_MERGE)
    return ingest.merge(incident_id, body.source_ids, body.reason, user.username)


@router.post(_INCIDENT + "/split", response_model=SplitResult, summary="Split events off into a new incident")
def post_split(
    incident_id: uuid.UUID,
    body: SplitRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_MERGE))],
    ingest: IngestRoom,
    gate: GateRoom,
) -> SplitResult:
    """The incident with the events it kept, and the new incident."""
    load_incident(gate, user, incident_id, Action.INCIDENT_MERGE)
    rest, new = ingest.split(incident_id, body.event_ids, body.reason, user.username)
    return SplitResult(incident=rest, split_off=new)
