"""Severity rules: rule kind, class, named areas, local night, first/max policy, default sharing."""

from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from hwarang.domain import GeoPoint, ObjectClass, RuleKind, Severity
from hwarang.hub.fusion.severity import (
    NamedArea,
    SeverityConfig,
    SeverityRule,
    SeverityRules,
    max_severity,
    severity_for,
)
from tests.hub_support import make_event

COAST = NamedArea(
    name="coast-1", kind="coast", polygon=[(128.40, 38.30), (128.60, 38.30), (128.60, 38.50), (128.40, 38.50)]
)
PLANT = NamedArea(
    name="plant",
    kind="key_infrastructure",
    polygon=[(129.0, 35.0), (129.1, 35.0), (129.1, 35.1), (129.0, 35.1)],
)
ON_COAST = GeoPoint(lat=38.40, lon=128.50)
IN_PLANT = GeoPoint(lat=35.05, lon=129.05)
ELSEWHERE = GeoPoint(lat=37.5636, lon=126.9976)
# 23:30 and 10:00 in Seoul (UTC+9)
NIGHT = datetime(2026, 5, 1, 14, 30, tzinfo=UTC)
DAY = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)

RULES = [
    SeverityRule(
        name="kni-intrusion",
        rules=[RuleKind.ZONE_INTRUSION, RuleKind.LINE_CROSSING],
        area_kinds=["key_infrastructure"],
        severity=Severity.CRITICAL,
        share_with=["military", "police"],
    ),
    SeverityRule(
        name="coast-night-loitering",
        rules=[RuleKind.LOITERING],
        classes=[ObjectClass.PERSON],
        area_kinds=["coast"],
        time_of_day="night",
        severity=Severity.HIGH,
        share_with=["military", "coast_guard"],
    ),
    SeverityRule(name="coast-any", areas=["coast-1"], severity=Severity.MEDIUM, share_with=["coast_guard"]),
    SeverityRule(name="animals", classes=[ObjectClass.ANIMAL], severity=Severity.LOW),
]


def rules(policy: str = "max") -> SeverityRules:
    return SeverityRules(SeverityConfig(policy=policy, areas=[COAST, PLANT], rules=RULES))


def test_intrusion_into_key_infrastructure_is_critical_and_shared() -> None:
    decision = rules().decide(make_event(geo=IN_PLANT))
    assert decision.severity is Severity.CRITICAL
    assert decision.share_with == ("military", "police")
    assert decision.rules == ("kni-intrusion",)


def test_a_person_loitering_at_night_on_the_coast_is_high() -> None:
    night = rules().decide(make_event(rule=RuleKind.LOITERING, occurred_at=NIGHT, geo=ON_COAST))
    assert night.severity is Severity.HIGH
    assert night.rules == ("coast-night-loitering", "coast-any")
    assert night.share_with == ("military", "coast_guard")
    day = rules().decide(make_event(rule=RuleKind.LOITERING, occurred_at=DAY, geo=ON_COAST))
    assert (day.severity, day.rules, day.share_with) == (Severity.MEDIUM, ("coast-any",), ("coast_guard",))
    boat = rules().decide(
        make_event(rule=RuleKind.LOITERING, object_class=ObjectClass.BOAT, occurred_at=NIGHT, geo=ON_COAST)
    )
    assert boat.rules == ("coast-any",), "the night rule is for people only"


def test_first_policy_takes_the_first_matching_rule_alone() -> None:
    first = rules("first").decide(make_event(rule=RuleKind.LOITERING, occurred_at=NIGHT, geo=ON_COAST))
    assert (first.severity, first.rules) == (Severity.HIGH, ("coast-night-loitering",))
    reordered = SeverityRules(
        SeverityConfig(policy="first", areas=[COAST, PLANT], rules=[RULES[2], RULES[1]])
    )
    lower = reordered.decide(make_event(rule=RuleKind.LOITERING, occurred_at=NIGHT, geo=ON_COAST))
    assert (lower.severity, lower.share_with) == (Severity.MEDIUM, ("coast_guard",))


def test_no_match_falls_back_to_the_built_in_default_and_rules_may_lower() -> None:
    plain = rules().decide(make_event(geo=ELSEWHERE))
    assert (plain.severity, plain.share_with, plain.rules) == (Severity.HIGH, (), ())
    assert plain.severity is severity_for(RuleKind.ZONE_INTRUSION, ObjectClass.PERSON)
    animal = rules().decide(make_event(object_class=ObjectClass.ANIMAL, geo=ELSEWHERE))
    assert animal.severity is Severity.LOW


def test_position_defaults_to_the_event_and_unknown_positions_match_no_area() -> None:
    assert rules().decide(make_event(geo=None)).rules == ()
    assert rules().decide(make_event(geo=None), IN_PLANT).severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("start", "end", "local", "night"),
    [
        (time(19, 0), time(6, 0), time(23, 30), True),
        (time(19, 0), time(6, 0), time(5, 59), True),
        (time(19, 0), time(6, 0), time(6, 0), False),
        (time(19, 0), time(6, 0), time(12, 0), False),
        (time(1, 0), time(4, 0), time(2, 0), True),
        (time(1, 0), time(4, 0), time(4, 30), False),
    ],
)
def test_night_window_in_seoul_time(start: time, end: time, local: time, night: bool) -> None:
    config = SeverityConfig(night_start=start, night_end=end, areas=[], rules=[])
    utc = datetime(2026, 5, 2, local.hour, local.minute, tzinfo=UTC).replace(hour=(local.hour - 9) % 24)
    assert SeverityRules(config).is_night(make_event(occurred_at=utc)) is night


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="unknown areas"):
        SeverityConfig(
            areas=[COAST], rules=[SeverityRule(name="x", areas=["nowhere"], severity=Severity.LOW)]
        )
    with pytest.raises(ValidationError, match="unique"):
        SeverityConfig(areas=[COAST, COAST], rules=[])
    with pytest.raises(ValidationError, match="not a simple area"):
        NamedArea(name="bow", kind="coast", polygon=[(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValidationError, match=r"not a \(lon, lat\) position"):
        NamedArea(name="bad", kind="coast", polygon=[(0, 0), (200, 0), (0, 1)])
    with pytest.raises(ValueError, match="unknown time zone"):
        SeverityRules(SeverityConfig(timezone="Mars/Olympus", areas=[], rules=[]))


def test_default_rules_cover_the_demo_site() -> None:
    default = SeverityRules(SeverityConfig())
    goseong = GeoPoint(lat=38.38, lon=128.471)
    loiter = make_event(rule=RuleKind.LOITERING, occurred_at=NIGHT, geo=goseong)
    assert default.decide(loiter).severity is Severity.HIGH
    assert "coast_guard" in default.decide(loiter).share_with
    assert [a.name for a in default.areas_at(GeoPoint(lat=37.4745, lon=126.6165))] == [
        "incheon-inner-harbour"
    ]


def test_max_severity() -> None:
    assert max_severity(Severity.LOW, Severity.CRITICAL) is Severity.CRITICAL
    assert max_severity(Severity.HIGH, Severity.MEDIUM) is Severity.HIGH
