"""The need-to-know policy: role, jurisdiction, clearance, agency, sharing and grants."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hwarang.domain import (
    AgencyKind,
    Classification,
    Grant,
    Incident,
    ObjectClass,
    Role,
    RuleKind,
    User,
)
from hwarang.hub.sharing.policy import (
    ROLE_ACTIONS,
    AccessDeniedError,
    Action,
    SharingPolicy,
    area_intersection,
    areas_overlap,
    in_area,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KINDS = {
    "seoul-jongno": AgencyKind.LOCAL_GOVERNMENT,
    "idhq": AgencyKind.INTEGRATED_DEFENSE_HQ,
    "police-seoul": AgencyKind.POLICE,
    "army-cdc": AgencyKind.MILITARY,
    "army-busan": AgencyKind.MILITARY,
    "nis": AgencyKind.INTELLIGENCE,
}


def _incident(
    sigungu: str = "11110",
    *,
    shared_with: tuple[str, ...] = (),
    classification: Classification = Classification.RESTRICTED,
    exercise: bool = False,
) -> Incident:
    return Incident(
        id=uuid.uuid4(),
        seq=1,
        title="Zone intrusion · person · gate",
        classification=classification,
        object_class=ObjectClass.PERSON,
        rule=RuleKind.ZONE_INTRUSION,
        camera_id="cam-01",
        center_id="seoul-jongno",
        sido_code=sigungu[:2],
        sigungu_code=sigungu,
        first_seen=NOW,
        last_seen=NOW,
        event_ids=(uuid.uuid4(),),
        exercise=exercise,
        created_at=NOW,
        updated_at=NOW,
        shared_with=shared_with,
    )


def _user(
    agency: str,
    role: Role = Role.OPERATOR,
    jurisdiction: str | None = "11",
    clearance: Classification = Classification.RESTRICTED,
) -> User:
    return User(
        username=f"{agency}-{role.value}",
        display_name=agency,
        agency_code=agency,
        jurisdiction_code=jurisdiction,
        roles=(role,),
        clearance=clearance,
    )


def _grant(agency: str = "army-cdc", area: str = "11", *, hours: float = 1.0) -> Grant:
    return Grant(
        id=uuid.uuid4(),
        condition_id=uuid.uuid4(),
        agency_kind=KINDS[agency],
        agency_code=agency,
        area_codes=(area,),
        permissions=(Action.INCIDENT_VIEW.value, Action.EVIDENCE_VIEW.value),
        starts_at=NOW - timedelta(hours=1),
        expires_at=NOW + timedelta(hours=hours),
    )


def _policy(*grants: Grant) -> SharingPolicy:
    return SharingPolicy(KINDS.get, lambda _now: grants)


def test_every_role_has_actions_and_admin_has_all() -> None:
    assert set(ROLE_ACTIONS) == set(Role)
    assert ROLE_ACTIONS[Role.ADMIN] == frozenset(Action)
    assert Action.USER_ADMIN not in ROLE_ACTIONS[Role.COMMANDER]
    assert Action.CONDITION_DECLARE in ROLE_ACTIONS[Role.HEAD_OF_LOCAL_GOVERNMENT]
    assert Action.CONDITION_DECLARE not in ROLE_ACTIONS[Role.OPERATOR]


def test_area_helpers() -> None:
    assert in_area("11110", "11") and in_area("11110", None) and not in_area("11110", "26")
    assert areas_overlap("11", "11110") and areas_overlap("11110", "11") and not areas_overlap("11", "26")
    assert area_intersection("11", "11110") == "11110"
    assert area_intersection(None, "26") == "26"
    with pytest.raises(ValueError, match="do not overlap"):
        area_intersection("11", "26")


def test_role_refusal_names_the_action() -> None:
    decision = _policy().decide(
        _user("seoul-jongno", Role.EVALUATOR), Action.INCIDENT_TRANSITION, _incident()
    )

    assert not decision.allowed
    assert "incident.transition" in decision.reason


def test_owner_sees_in_jurisdiction_only() -> None:
    policy = _policy()
    operator = _user("seoul-jongno", jurisdiction="11110")

    assert policy.decide(operator, Action.EVIDENCE_VIEW, _incident("11110")).allowed
    outside = policy.decide(operator, Action.INCIDENT_VIEW, _incident("26110"))
    assert not outside.allowed and "outside your jurisdiction" in outside.reason
    assert "26110" not in outside.reason  # a refusal does not tell where the incident is


def test_regional_admin_is_bounded_nationwide_admin_is_not() -> None:
    policy = _policy()
    busan_admin = _user("idhq", Role.ADMIN, jurisdiction="26")
    admin = _user("idhq", Role.ADMIN, jurisdiction=None)
    secret = _incident("11110", classification=Classification.SECRET)

    assert not policy.decide(busan_admin, Action.INCIDENT_VIEW, secret).allowed
    assert policy.decide(admin, Action.EVIDENCE_VIEW, secret).allowed


def test_clearance_below_classification_is_refused() -> None:
    decision = _policy().decide(
        _user("seoul-jongno"), Action.INCIDENT_VIEW, _incident(classification=Classification.CONFIDENTIAL)
    )

    assert not decision.allowed and "clearance" in decision.reason


def test_unregistered_agency_sees_nothing() -> None:
    decision = _policy().decide(_user("nowhere"), Action.INCIDENT_VIEW, _incident())

    assert not decision.allowed and "not registered" in decision.reason


def test_police_needs_the_incident_shared_and_then_sees_evidence() -> None:
    policy = _policy()
    liaison = _user("police-seoul", Role.AGENCY_LIAISON)

    assert not policy.decide(liaison, Action.INCIDENT_VIEW, _incident()).allowed
    shared = _incident(shared_with=("police",))
    assert policy.decide(liaison, Action.INCIDENT_VIEW, shared).allowed
    assert policy.decide(liaison, Action.EVIDENCE_VIEW, shared).allowed
    assert policy.decide(liaison, Action.EVIDENCE_VIEW, _incident(shared_with=("police-seoul",))).allowed


def test_military_sees_shared_incident_but_evidence_only_under_a_grant() -> None:
    commander = _user("army-cdc", Role.COMMANDER)
    shared = _incident(shared_with=("military",))
    grant = _grant()

    without = _policy().decide(commander, Action.EVIDENCE_VIEW, shared)
    assert _policy().decide(commander, Action.INCIDENT_VIEW, shared).allowed
    assert not without.allowed and "declared condition" in without.reason
    with_grant = _policy(grant).decide(commander, Action.EVIDENCE_VIEW, shared, now=NOW)
    assert with_grant.allowed and with_grant.grant_id == grant.id
    assert _policy(grant).decide(commander, Action.INCIDENT_VIEW, _incident(), now=NOW).grant_id == grant.id


@pytest.mark.parametrize(
    "grant",
    [
        _grant("army-busan"),  # another unit's grant
        _grant(area="11140"),  # another area
        _grant(hours=-0.5),  # expired
    ],
    ids=["other-agency", "other-area", "expired"],
)
def test_grants_that_do_not_fit_open_nothing(grant: Grant) -> None:
    decision = _policy(grant).decide(
        _user("army-cdc", Role.COMMANDER), Action.EVIDENCE_VIEW, _incident(), now=NOW
    )

    assert not decision.allowed


def test_revoked_grant_opens_nothing() -> None:
    grant = _grant().model_copy(update={"revoked_at": NOW - timedelta(minutes=1)})

    assert not _policy(grant).decide(_user("army-cdc"), Action.INCIDENT_VIEW, _incident(), now=NOW).allowed


def test_evaluator_reads_exercise_incidents_of_any_agency() -> None:
    evaluator = _user("army-cdc", Role.EVALUATOR)

    assert _policy().decide(evaluator, Action.INCIDENT_VIEW, _incident(exercise=True)).allowed
    assert not _policy().decide(evaluator, Action.INCIDENT_VIEW, _incident()).allowed


def test_require_raises_with_the_reason() -> None:
    with pytest.raises(AccessDeniedError, match="not shared"):
        _policy().require(_user("police-seoul"), Action.INCIDENT_VIEW, _incident())


def test_visible_keeps_order_and_reports_the_grants_used() -> None:
    grant = _grant(area="11110")
    incidents = [_incident("11110"), _incident("11140"), _incident("11110")]

    kept, used = _policy(grant).visible(_user("army-cdc"), incidents, now=NOW)

    assert kept == [incidents[0], incidents[2]]
    assert used == {grant.id}


def test_docs_role_table_matches_role_actions() -> None:
    text = (Path(__file__).parents[3] / "docs" / "sharing.md").read_text(encoding="utf-8")
    table = text.split("<!-- role-actions:start -->")[1].split("<!-- role-actions:end -->")[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    roles = list(Role)
    documented = {
        Action(cells[0].strip(" `")): {
            role for role, cell in zip(roles, cells[1:], strict=True) if cell.strip()
        }
        for cells in (row.strip("|").split("|") for row in rows)
    }

    assert documented == {action: {r for r in roles if action in ROLE_ACTIONS[r]} for action in Action}


def test_camera_live_decision_from_the_map_and_through_an_incident() -> None:
    """One decision for both live routes: the camera's area from the map, the incident's evidence."""
    owner, army = _user("seoul-jongno"), _user("army-cdc", Role.COMMANDER)
    police, evaluator = _user("police-seoul", Role.AGENCY_LIAISON), _user("seoul-jongno", Role.EVALUATOR)
    busan_army = _user("army-busan", Role.COMMANDER, jurisdiction="26")
    plain, granted = _policy(), _policy(_grant("army-cdc", "11110"))
    assert plain.decide_camera(owner, "cam-01", "11110", now=NOW).allowed
    assert not plain.decide_camera(owner, "cam-02", "26110", now=NOW).allowed  # outside jurisdiction
    assert not plain.decide_camera(evaluator, "cam-01", "11110", now=NOW).allowed  # role: no evidence
    refused = plain.decide_camera(army, "cam-01", "11110", now=NOW)
    assert not refused.allowed and "declared condition" in refused.reason
    assert not plain.decide_camera(police, "cam-01", "11110", now=NOW).allowed  # no incident shares a camera
    decision = granted.decide_camera(army, "cam-01", "11110", now=NOW)
    assert decision.allowed and decision.grant_id is not None
    assert not granted.decide_camera(army, "cam-03", "11140", now=NOW).allowed  # beyond the grant's area
    assert not granted.decide_camera(busan_army, "cam-01", "11110", now=NOW).allowed
    assert not granted.decide_camera(army, "cam-01", "11110", now=NOW + timedelta(hours=2)).allowed

    shared = _incident(shared_with=("police",))
    assert plain.decide_camera(police, "cam-01", "11110", incident=shared, now=NOW).allowed
    assert not plain.decide_camera(army, "cam-01", "11110", incident=shared, now=NOW).allowed  # evidence
    assert granted.decide_camera(army, "cam-01", "11110", incident=shared, now=NOW).allowed
    other = plain.decide_camera(police, "cam-09", "11110", incident=shared, now=NOW)
    assert not other.allowed and "not incident" in other.reason
