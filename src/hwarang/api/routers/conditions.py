"""``/api/v1/conditions`` and ``/api/v1/grants``: declared conditions and the access they open."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AwareDatetime, Field

from hwarang.api.access import permit, refuse
from hwarang.api.context import ApiContext, get_context
from hwarang.api.rooms import AgenciesRoom, ConditionsRoom, GateRoom
from hwarang.domain import ConditionKind, DeclaredCondition, DomainModel, Grant, Role, User
from hwarang.domain.sharing import AREA_CODE_PATTERN
from hwarang.hub.sharing.condition_policy import ConditionPolicy
from hwarang.hub.sharing.conditions import (
    ConditionService,
    ConditionStatus,
    GrantStatus,
    InvalidConditionError,
    condition_status,
    grant_status,
)
from hwarang.hub.sharing.policy import OWNER_KINDS, AccessDeniedError, Action, areas_overlap

router = APIRouter(tags=["conditions"])


class DeclareRequest(DomainModel):
    """A condition to declare; it must qualify under the law (see docs/sharing.md)."""

    kind: ConditionKind
    subtype: str | None = Field(
        default=None,
        max_length=64,
        description="Situation 'gap'/'eul'/'byeong'; exercise 'integrated'/'ulchi'/'combined'.",
    )
    alert_level: int | None = Field(default=None, description="1 or 2, for alert_level conditions.")
    area_codes: list[Annotated[str, Field(pattern=AREA_CODE_PATTERN)]] = Field(
        min_length=1, max_length=300, description="Sido or sigungu codes inside your jurisdiction."
    )
    reason: str = Field(min_length=1, max_length=2000, description="What was declared, by whom, reference.")
    expires_at: AwareDatetime = Field(description="When it ends by itself (at most 30 days ahead).")


class GrantView(DomainModel):
    """A grant and whether it is in force now."""

    grant: Grant
    status: GrantStatus


class ConditionView(DomainModel):
    """A condition, whether it is in force, and the grants it opened."""

    condition: DeclaredCondition
    status: ConditionStatus
    grants: list[GrantView]


def _view(conditions: ConditionService, condition: DeclaredCondition) -> ConditionView:
    now = conditions.now()
    grants = conditions.grants(condition_id=condition.id)
    return ConditionView(
        condition=condition,
        status=condition_status(condition, now, grants),
        grants=[GrantView(grant=g, status=grant_status(g, now)) for g in grants],
    )


def _concerns(user: User, areas: tuple[str, ...]) -> bool:
    return any(areas_overlap(area, user.jurisdiction_code) for area in areas)


@router.get("/api/v1/conditions", response_model=list[ConditionView], summary="Declared conditions")
def list_conditions(
    user: Annotated[User, Depends(permit(Action.CONDITION_VIEW))],
    context: Annotated[ApiContext, Depends(get_context)],
    conditions: ConditionsRoom,
    active: Annotated[bool, Query(description="Only conditions in force now.")] = False,
) -> list[ConditionView]:
    """Conditions touching the user's jurisdiction, newest first."""
    declared = conditions.list_conditions(active_only=active)
    return [_view(conditions, c) for c in declared if _concerns(user, c.area_codes)]


@router.post(
    "/api/v1/conditions",
    response_model=ConditionView,
    status_code=status.HTTP_201_CREATED,
    summary="Declare a condition (opens grants for the area)",
)
def declare_condition(
    body: DeclareRequest,
    user: Annotated[User, Depends(permit(Action.CONDITION_DECLARE))],
    conditions: ConditionsRoom,
    gate: GateRoom,
) -> ConditionView:
    """Declare; 422 when it does not qualify, 403 outside your jurisdiction."""
    try:
        condition, _grants = conditions.declare(
            kind=body.kind,
            subtype=body.subtype,
            alert_level=body.alert_level,
            area_codes=body.area_codes,
            reason=body.reason,
            expires_at=body.expires_at,
            actor=user,
        )
    except InvalidConditionError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except AccessDeniedError as exc:
        raise refuse(gate, user, Action.CONDITION_DECLARE, "conditions", str(exc)) from None
    return _view(conditions, condition)


@router.post(
    "/api/v1/conditions/{condition_id}/lift",
    response_model=ConditionView,
    summary="Lift a condition (revokes its grants)",
)
def lift_condition(
    condition_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.CONDITION_DECLARE))],
    conditions: ConditionsRoom,
    gate: GateRoom,
) -> ConditionView:
    """Lift; 404 when unknown, 409 when already lifted or expired, 403 outside your jurisdiction."""
    try:
        condition = conditions.lift(condition_id, user)
    except AccessDeniedError as exc:
        target = f"condition:{condition_id}"
        raise refuse(gate, user, Action.CONDITION_DECLARE, target, str(exc)) from None
    return _view(conditions, condition)


class RejectRequest(DomainModel):
    """Why the local government's authority refuses the condition."""

    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/api/v1/conditions/{condition_id}/approve",
    response_model=ConditionView,
    summary="Approve a condition (the local government's authority): its grants open",
)
def approve_condition(
    condition_id: uuid.UUID,
    user: Annotated[User, Depends(permit(Action.CONDITION_DECLARE))],
    conditions: ConditionsRoom,
    gate: GateRoom,
) -> ConditionView:
    """Approve; 404 when unknown, 409 when it awaits no approval, 403 unless you are the head of
    the local government covering its area."""
    try:
        condition = conditions.approve(condition_id, user)
    except AccessDeniedError as exc:
        raise refuse(gate, user, Action.CONDITION_DECLARE, f"condition:{condition_id}", str(exc)) from None
    return _view(conditions, condition)


@router.post(
    "/api/v1/conditions/{condition_id}/reject",
    response_model=ConditionView,
    summary="Reject a condition (the local government's authority): its grants never open",
)
def reject_condition(
    condition_id: uuid.UUID,
    body: RejectRequest,
    user: Annotated[User, Depends(permit(Action.CONDITION_DECLARE))],
    conditions: ConditionsRoom,
    gate: GateRoom,
) -> ConditionView:
    """Reject with a reason; 404 / 409 / 403 as for approve."""
    try:
        condition = conditions.reject(condition_id, user, body.reason)
    except InvalidConditionError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except AccessDeniedError as exc:
        raise refuse(gate, user, Action.CONDITION_DECLARE, f"condition:{condition_id}", str(exc)) from None
    return _view(conditions, condition)


@router.get("/api/v1/conditions/policy", response_model=ConditionPolicy, summary="The condition policy")
def get_condition_policy(
    _user: Annotated[User, Depends(permit(Action.CONDITION_VIEW))],
    conditions: ConditionsRoom,
) -> ConditionPolicy:
    """Who may declare which kind, for how long, which agencies it opens grants for, whose approval
    they wait for, and the legal basis of each kind."""
    return conditions.policy


@router.get("/api/v1/grants", response_model=list[GrantView], summary="Grants opened by conditions")
def list_grants(
    user: Annotated[User, Depends(permit(Action.CONDITION_VIEW))],
    agencies: AgenciesRoom,
    conditions: ConditionsRoom,
    active: Annotated[bool, Query(description="Only grants in force now.")] = False,
) -> list[GrantView]:
    """Owners and administrators see the grants in their jurisdiction; other agencies their own."""
    now = conditions.now()
    grants = conditions.grants(active_only=active)
    owner = Role.ADMIN in user.roles or agencies.kind_of(user.agency_code) in OWNER_KINDS
    return [
        GrantView(grant=g, status=grant_status(g, now))
        for g in grants
        if (owner and _concerns(user, g.area_codes)) or g.agency_code == user.agency_code
    ]
