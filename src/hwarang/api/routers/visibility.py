"""``/api/v1/visibility``: why a user sees what they see, in their own terms.

A partner whose list is empty is told why ("no condition is in force for your area"), and what is
open to them and until when ("shared with you until 18:00").
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from hwarang.api.access import permit
from hwarang.api.rooms import AgenciesRoom, ConditionsRoom, SharesRoom
from hwarang.domain import AgencyKind, DomainModel, User
from hwarang.hub.sharing.conditions import condition_status
from hwarang.hub.sharing.policy import GRANT_ONLY_EVIDENCE_KINDS, OWNER_KINDS, Action, areas_overlap

router = APIRouter(tags=["sharing"])


class GrantInForce(DomainModel):
    """A grant opened for the user's agency, in force now."""

    condition_id: str
    kind: str
    areas: list[str]
    until: datetime


class ShareInForce(DomainModel):
    """An incident explicitly shared with the user's agency, and until when."""

    incident_id: str
    until: datetime


class Visibility(DomainModel):
    """What the user sees and why."""

    agency_code: str
    agency_kind: AgencyKind | None
    jurisdiction_code: str | None
    owner: bool = Field(description="True for agencies owning the incidents of their jurisdiction.")
    grants: list[GrantInForce]
    shares: list[ShareInForce]
    waiting_conditions: list[str] = Field(description="Conditions on your area awaiting approval.")
    messages: list[str] = Field(description="Why, in plain words; the page shows them when a list is empty.")


def _hhmm(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


@router.get("/api/v1/visibility", response_model=Visibility, summary="What you may see, and why")
def get_visibility(
    user: Annotated[User, Depends(permit(Action.CONDITION_VIEW))],
    agencies: AgenciesRoom,
    conditions: ConditionsRoom,
    shares: SharesRoom,
) -> Visibility:
    """Your agency, its kind, the grants and shares in force for you, and messages saying why a
    list may be empty."""
    kind = agencies.kind_of(user.agency_code)
    now = conditions.now()
    owner = kind in OWNER_KINDS
    area = user.jurisdiction_code or "the whole country"
    messages: list[str] = []
    grants: list[GrantInForce] = []
    by_id = {c.id: c for c in conditions.list_conditions(active_only=True)}
    for grant in conditions.grants(active_only=True):
        mine = grant.agency_code == user.agency_code or (
            grant.agency_code is None and grant.agency_kind is kind
        )
        condition = by_id.get(grant.condition_id)
        if mine and condition is not None:
            grants.append(
                GrantInForce(
                    condition_id=str(condition.id),
                    kind=condition.kind.value,
                    areas=list(grant.area_codes),
                    until=grant.expires_at,
                )
            )
    waiting = [
        str(c.id)
        for c in by_id.values()
        if any(areas_overlap(a, user.jurisdiction_code) for a in c.area_codes)
        and condition_status(c, now, conditions.grants(condition_id=c.id)) == "awaiting_approval"
    ]
    shared = [
        ShareInForce(incident_id=str(i), until=t)
        for i, t in sorted(shares.in_force_for(user.agency_code, kind, now).items(), key=lambda p: p[1])
    ]
    if kind is None:
        messages.append(f"your agency {user.agency_code} is not registered: nothing is shared with you")
    elif owner:
        messages.append(f"you see the incidents of your jurisdiction ({area}) as their owner")
    else:
        for held in grants:
            areas = ", ".join(held.areas)
            messages.append(f"a {held.kind} condition is in force for {areas} until {_hhmm(held.until)}")
        if not grants:
            messages.append(f"no condition is in force for your area ({area})")
            if kind in GRANT_ONLY_EVIDENCE_KINDS:
                messages.append(
                    "municipal CCTV evidence opens to your agency only under a declared condition"
                )
        if waiting:
            messages.append(f"{len(waiting)} condition(s) on your area await the local government's approval")
        for share in shared:
            messages.append(f"incident {share.incident_id} is shared with you until {_hhmm(share.until)}")
        if not shared:
            messages.append("no incident is shared with your agency right now; your tasks are in your inbox")
    return Visibility(
        agency_code=user.agency_code,
        agency_kind=kind,
        jurisdiction_code=user.jurisdiction_code,
        owner=owner,
        grants=grants,
        shares=shared,
        waiting_conditions=waiting,
        messages=messages,
    )
