"""SeverityRules remembers decisions: one shared instance must decide every event exactly as a fresh
instance does, whatever came before (positions, times, confidences, detectors, exercises mixed)."""

import itertools
from datetime import UTC, datetime
from typing import Any

from hwarang.domain import DetectorInfo, GeoPoint, ObjectClass, RuleKind
from hwarang.hub.fusion.rows import reasons_json, stored_reason
from hwarang.hub.fusion.severity import SeverityConfig, SeverityRules
from tests.hub_support import make_message

GATE_A = GeoPoint(lat=37.47425, lon=126.61617)  # key infrastructure and coast
GATE_B = GeoPoint(lat=37.47426, lon=126.61618)  # a metre away: the same areas
PLAZA = GeoPoint(lat=37.47416, lon=126.61635)  # coast only
SEOUL = GeoPoint(lat=37.5636, lon=126.9976)  # ordinary
DAY = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)  # 10:00 KST
NIGHT = datetime(2026, 5, 1, 14, 30, tzinfo=UTC)  # 23:30 KST
MOTION = DetectorInfo(kind="motion")
NANODET = DetectorInfo(kind="model", model="nanodet", sha256="ab" * 32)


def _events() -> list[Any]:
    events = []
    for geo, rule, cls, at, confidence, detector, exercise in itertools.product(
        (GATE_A, GATE_B, PLAZA, SEOUL, None),
        (RuleKind.ZONE_INTRUSION, RuleKind.LOITERING),
        (ObjectClass.PERSON, ObjectClass.ANIMAL),
        (DAY, NIGHT),
        (0.9, 0.3, 0.31),
        (NANODET, MOTION),
        (False, True),
    ):
        fields: dict[str, Any] = {"rule": rule, "object_class": cls, "occurred_at": at}
        fields["confidence"] = confidence
        message = make_message(geo=geo, detector=detector, exercise=exercise, **fields)
        events.append(message.event)
    return events


def test_shared_rules_decide_as_fresh_ones_in_any_order() -> None:
    events = _events()
    expected = [SeverityRules(SeverityConfig()).decide(event) for event in events]
    shared = SeverityRules(SeverityConfig())
    assert [shared.decide(event) for event in events] == expected
    assert [shared.decide(event) for event in reversed(events)] == expected[::-1]
    assert len({decision.severity for decision in expected}) > 2  # the mix exercises several outcomes


def test_position_given_apart_from_the_event_is_honoured_after_remembering() -> None:
    rules = SeverityRules(SeverityConfig())
    event = make_message(geo=SEOUL, rule=RuleKind.ZONE_INTRUSION, occurred_at=DAY).event
    ordinary = rules.decide(event)
    at_gate = rules.decide(event, GATE_A)
    assert at_gate.severity != ordinary.severity
    assert at_gate == SeverityRules(SeverityConfig()).decide(event, GATE_A)


def test_stored_reasons_round_trip() -> None:
    decision = SeverityRules(SeverityConfig()).decide(
        make_message(geo=GATE_A, occurred_at=NIGHT, confidence=0.3, exercise=True).event
    )
    stored = reasons_json(decision)
    assert stored == [reason.model_dump(mode="json") for reason in decision.reasons]
    assert tuple(stored_reason(item) for item in stored) == decision.reasons
