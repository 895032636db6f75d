"""Declared conditions: qualification under the law, grants opened, lifted and expired, audited."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hwarang.domain import Agency, AgencyKind, ConditionKind, Role, User
from hwarang.hub.errors import ConflictError, NotFoundError
from hwarang.hub.service import HubService
from hwarang.hub.sharing.condition_policy import ConditionPolicy, Declarers
from hwarang.hub.sharing.conditions import (
    MAX_CONDITION_DURATION,
    ConditionService,
    InvalidConditionError,
    condition_status,
    grant_status,
)
from hwarang.hub.sharing.policy import AccessDeniedError

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AGENCIES = (
    Agency(code="seoul-jongno", name="종로구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code="11110"),
    Agency(code="army-cdc", name="수도방위사령부", kind=AgencyKind.MILITARY, jurisdiction_code="11"),
    Agency(code="army-jongno", name="종로 대대", kind=AgencyKind.MILITARY, jurisdiction_code="11110"),
    Agency(code="army-53", name="53사단", kind=AgencyKind.MILITARY, jurisdiction_code="26"),
    Agency(code="jcs", name="합동참모본부", kind=AgencyKind.MILITARY),
    Agency(code="police-seoul", name="서울경찰청", kind=AgencyKind.POLICE, jurisdiction_code="11"),
    Agency(code="nis", name="국가정보원", kind=AgencyKind.INTELLIGENCE),
    Agency(code="fire-seoul", name="서울소방", kind=AgencyKind.FIRE, jurisdiction_code="11"),
)
HEAD = User(
    username="mayor",
    display_name="Mayor",
    agency_code="seoul-jongno",
    jurisdiction_code="11110",
    roles=(Role.HEAD_OF_LOCAL_GOVERNMENT,),
)
COMMANDER = User(
    username="cdc-commander",
    display_name="Commander",
    agency_code="army-cdc",
    jurisdiction_code="11",
    roles=(Role.COMMANDER,),
)


def open_condition_policy() -> ConditionPolicy:
    """The default condition policy opened up: anyone with the role declares any kind, for up to
    30 days, and grants need no approval (for tests of the grant mechanics, not of the policy)."""
    policy = ConditionPolicy.load()
    everyone = Declarers(agency_kinds=tuple(AgencyKind), roles=tuple(Role))
    kinds = {
        kind: rule.model_copy(update={"declarers": everyone, "approval": "none", "max_hours": 720})
        for kind, rule in policy.kinds.items()
    }
    return policy.model_copy(update={"kinds": kinds})


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conditions(service: HubService, clock: Clock) -> ConditionService:
    service.identity.agencies.upsert(AGENCIES)
    return ConditionService(
        service.database, service.identity.agencies, clock=clock, policy=open_condition_policy()
    )


def _declare(conditions: ConditionService, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "kind": ConditionKind.ALERT_LEVEL,
        "subtype": None,
        "alert_level": 2,
        "area_codes": ["11"],
        "reason": "경계태세 2급 발령 (test)",
        "expires_at": T0 + timedelta(days=1),
        "actor": COMMANDER,
    }
    fields.update(overrides)
    return conditions.declare(**fields)


def _actions(service: HubService) -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in reversed(service.audit.entries(limit=200))]


def test_alert_level_opens_grants_for_military_units_overlapping_the_area(
    conditions: ConditionService, service: HubService
) -> None:
    condition, grants = _declare(conditions)

    by_agency = {g.agency_code: g for g in grants}
    assert set(by_agency) == {"army-cdc", "army-jongno", "jcs"}  # not Busan's division, not police
    assert by_agency["army-jongno"].area_codes == ("11110",)  # the overlap only
    assert by_agency["jcs"].area_codes == ("11",)
    assert all(g.expires_at == condition.expires_at and g.starts_at == T0 for g in grants)
    assert all(g.permissions == ("incident.view", "evidence.view") for g in grants)
    actions = _actions(service)
    assert ("condition.declare", f"condition:{condition.id}") in actions
    assert sorted(t for a, t in actions if a == "grant.open") == sorted(f"grant:{g.id}" for g in grants)


@pytest.mark.parametrize(
    ("kind", "subtype", "expected"),
    [
        (ConditionKind.TERROR, None, {"army-cdc", "army-jongno", "jcs", "police-seoul", "nis"}),
        (ConditionKind.DISASTER, "flood", {"army-cdc", "army-jongno", "jcs", "police-seoul", "fire-seoul"}),
        (ConditionKind.EXERCISE, "ulchi", {"army-cdc", "army-jongno", "jcs", "police-seoul"}),
        (
            ConditionKind.INTEGRATED_DEFENSE_SITUATION,
            "eul",
            {"army-cdc", "army-jongno", "jcs", "police-seoul"},
        ),
    ],
)
def test_each_kind_opens_access_for_its_agency_kinds(
    conditions: ConditionService, kind: ConditionKind, subtype: str | None, expected: set[str]
) -> None:
    _condition, grants = _declare(conditions, kind=kind, subtype=subtype, alert_level=None)

    assert {g.agency_code for g in grants} == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alert_level": 3}, "alert_level 1 or 2"),
        ({"alert_level": None}, "alert_level 1 or 2"),
        ({"kind": ConditionKind.EXERCISE, "alert_level": None, "subtype": "freedom"}, "combined, integrated"),
        ({"kind": ConditionKind.INTEGRATED_DEFENSE_SITUATION, "alert_level": None}, "byeong, eul, gap"),
        ({"kind": ConditionKind.TERROR, "alert_level": 2}, "only for alert_level"),
        ({"expires_at": T0 - timedelta(minutes=1)}, "after now"),
        ({"expires_at": T0 + MAX_CONDITION_DURATION + timedelta(seconds=1)}, "at most 30 days"),
        ({"expires_at": datetime(2026, 3, 2, 9, 0)}, "time zone"),
        ({"reason": "   "}, "needs a reason"),
        ({"area_codes": []}, "at least one area"),
        ({"area_codes": ["1"]}, "2-digit sido"),
    ],
)
def test_declarations_that_do_not_qualify_are_refused(
    conditions: ConditionService, service: HubService, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidConditionError, match=message):
        _declare(conditions, **overrides)
    assert conditions.list_conditions() == []


@pytest.mark.parametrize(
    ("actor", "areas", "message"),
    [
        (HEAD, ["11"], "outside their jurisdiction 11110"),  # the district head cannot declare for Seoul
        (COMMANDER.model_copy(update={"roles": (Role.OPERATOR,)}), ["11"], "condition.declare"),
    ],
)
def test_declarer_needs_the_role_and_the_area_in_jurisdiction(
    conditions: ConditionService, actor: User, areas: list[str], message: str
) -> None:
    with pytest.raises(AccessDeniedError, match=message):
        _declare(conditions, actor=actor, area_codes=areas)


def test_areas_are_normalised(conditions: ConditionService) -> None:
    condition, _grants = _declare(conditions, area_codes=["11110", "11", "11"])

    assert condition.area_codes == ("11",)


def test_lift_revokes_grants_and_is_audited(
    conditions: ConditionService, service: HubService, clock: Clock
) -> None:
    condition, grants = _declare(conditions, actor=HEAD, area_codes=["11110"])
    clock.now = T0 + timedelta(hours=2)

    lifted = conditions.lift(condition.id, HEAD)

    assert lifted.lifted_at == clock.now and lifted.lifted_by == "mayor"
    assert condition_status(lifted, clock.now) == "lifted"
    stored = conditions.grants(condition_id=condition.id)
    assert {g.id for g in stored} == {g.id for g in grants}
    assert all(g.revoked_at == clock.now and grant_status(g, clock.now) == "revoked" for g in stored)
    assert conditions.grants(active_only=True) == []
    assert conditions.active() == []
    actions = _actions(service)
    assert ("condition.lift", f"condition:{condition.id}") in actions
    assert sorted(t for a, t in actions if a == "grant.revoke") == sorted(f"grant:{g.id}" for g in grants)
    with pytest.raises(ConflictError, match="already lifted"):
        conditions.lift(condition.id, HEAD)


def test_lift_checks_existence_and_authority(conditions: ConditionService) -> None:
    condition, _grants = _declare(conditions)

    with pytest.raises(NotFoundError):
        conditions.lift(condition.id.__class__(int=1), COMMANDER)
    with pytest.raises(AccessDeniedError, match="outside their jurisdiction"):
        conditions.lift(condition.id, HEAD)  # declared for all of Seoul; the district head cannot lift it


def test_expiry_closes_grants_once_and_audits_it(
    conditions: ConditionService, service: HubService, clock: Clock
) -> None:
    condition, grants = _declare(conditions, expires_at=T0 + timedelta(hours=1))
    assert len(service.identity.agencies.active_grants(T0 + timedelta(minutes=59))) == len(grants)

    clock.now = T0 + timedelta(hours=1)
    assert service.identity.agencies.active_grants(clock.now) == []  # no sweep needed for access
    assert [c.id for c in conditions.list_conditions()] == [condition.id]  # listing sweeps
    conditions.sweep_expired()  # a second sweep records nothing more

    stored = conditions.grants(condition_id=condition.id)
    assert all(grant_status(g, clock.now) == "expired" for g in stored)
    assert condition_status(conditions.get(condition.id) or condition, clock.now) == "expired"
    expired = [t for a, t in _actions(service) if a == "grant.expired"]
    assert sorted(expired) == sorted(f"grant:{g.id}" for g in grants)
    with pytest.raises(ConflictError, match="already expired"):
        conditions.lift(condition.id, COMMANDER)


def test_list_active_only(conditions: ConditionService, clock: Clock) -> None:
    short, _ = _declare(conditions, expires_at=T0 + timedelta(minutes=5))
    long, _ = _declare(conditions, expires_at=T0 + timedelta(days=2))
    clock.now = T0 + timedelta(minutes=10)

    assert [c.id for c in conditions.active()] == [long.id]
    assert {c.id for c in conditions.list_conditions()} == {short.id, long.id}


def test_service_exposes_conditions(service: HubService) -> None:
    make: Callable[[], datetime] = service.conditions.now
    assert make().tzinfo is not None
