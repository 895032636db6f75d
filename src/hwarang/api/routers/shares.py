"""``/api/v1/incidents/{id}/shares``: the owning center shares an incident with an agency, with a
reason and an expiry, and revokes it; each step audited and pushed live."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import AwareDatetime, Field

from hwarang.api.access import load_incident, permit
from hwarang.api.rooms import GateRoom, SharesRoom
from hwarang.domain import AgencyKind, DomainModel, IncidentShare, User
from hwarang.hub.sharing.policy import Action
from hwarang.hub.sharing.shares import InvalidShareError

router = APIRouter(prefix="/api/v1/incidents/{incident_id}/shares", tags=["sharing"])


class ShareRequest(DomainModel):
    """With whom (one agency code, or every agency of a kind), why, and until when."""

    agency_code: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    agency_kind: AgencyKind | None = None
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: AwareDatetime = Field(description="When the share ends by itself (at most 30 days ahead).")


@router.get("", response_model=list[IncidentShare], summary="An incident's explicit shares")
def list_shares(
    incident_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    gate: GateRoom,
    shares: SharesRoom,
) -> list[IncidentShare]:
    """Newest first; for users who may view the incident."""
    load_incident(gate, user, incident_id, Action.INCIDENT_VIEW)
    return shares.of_incident(incident_id)


@router.post(
    "",
    response_model=IncidentShare,
    status_code=status.HTTP_201_CREATED,
    summary="Share an incident with an agency, with a reason, until an expiry",
)
def post_share(
    incident_id: uuid.UUID,
    body: ShareRequest,
    user: Annotated[User, Depends(permit(Action.INCIDENT_SHARE))],
    gate: GateRoom,
    shares: SharesRoom,
) -> IncidentShare:
    """The owning center only (403 for partners); 422 for an unknown agency, a missing reason or a
    bad expiry. Military and intelligence users still need a condition for the evidence."""
    load_incident(gate, user, incident_id, Action.INCIDENT_SHARE)
    try:
        return shares.share(
            incident_id,
            user,
            agency_code=body.agency_code,
            agency_kind=body.agency_kind,
            reason=body.reason,
            expires_at=body.expires_at,
        )
    except InvalidShareError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None


@router.post("/{share_id}/revoke", response_model=IncidentShare, summary="Revoke a share now")
def revoke_share(
    incident_id: uuid.UUID,
    share_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.INCIDENT_SHARE))],
    gate: GateRoom,
    shares: SharesRoom,
) -> IncidentShare:
    """The owning center only; 404 for an unknown share, 409 when it already ended."""
    load_incident(gate, user, incident_id, Action.INCIDENT_SHARE)
    return shares.revoke(incident_id, share_id, user)
