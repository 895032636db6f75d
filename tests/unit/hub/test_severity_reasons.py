"""Severity with reasons: rule, area kind (key infrastructure, coast, ordinary), time of day,
confidence, motion-only detectors and exercises, each with a known answer; and the incident side."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from hwarang.domain import DetectorInfo, GeoPoint, ObjectClass, RuleKind, Severity, SeverityReasonCode
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.fusion.severity import NamedArea, SeverityConfig, SeverityDecision, SeverityRules
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import FAST_HASHER, make_message, pg_schema_url

# Positions from the demo site's areas (SeverityConfig's defaults).
HARBOUR_GATE = GeoPoint(lat=37.47425, lon=126.61617)  # PETS camera, harbour road: key infrastructure
HARBOUR_PLAZA = GeoPoint(lat=37.47416, lon=126.61635)  # PETS camera, plaza: coast only
GOSEONG_COAST = GeoPoint(lat=38.38, lon=128.47)
SEOUL = GeoPoint(lat=37.5636, lon=126.9976)  # in no named area: ordinary
DAY = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)  # 10:00 KST
NIGHT = datetime(2026, 5, 1, 14, 30, tzinfo=UTC)  # 23:30 KST
MOTION = DetectorInfo(kind="motion")
NANODET = DetectorInfo(kind="model", model="nanodet", sha256="ab" * 32)


def decide(config: SeverityConfig | None = None, **event: Any) -> SeverityDecision:
    fields: dict[str, Any] = {"occurred_at": DAY, "detector": NANODET, **event}
    return SeverityRules(config or SeverityConfig()).decide(make_message(**fields).event)


def codes(decision: SeverityDecision) -> list[str]:
    return [reason.code.value for reason in decision.reasons]


@pytest.mark.parametrize(
    ("event", "severity", "expected"),
    [
        (
            {"geo": HARBOUR_GATE},
            Severity.CRITICAL,
            ["site_rule", "area", "area"],
        ),
        (
            {"geo": HARBOUR_PLAZA, "rule": RuleKind.LINE_CROSSING},
            Severity.HIGH,
            ["site_rule", "area"],
        ),
        (
            {"geo": HARBOUR_PLAZA, "rule": RuleKind.LOITERING},
            Severity.MEDIUM,
            ["default", "area"],
        ),
        (
            {"geo": GOSEONG_COAST, "rule": RuleKind.LOITERING, "occurred_at": NIGHT},
            Severity.HIGH,
            ["site_rule", "night", "area"],
        ),
        (
            {"geo": SEOUL},
            Severity.MEDIUM,
            ["site_rule", "day", "ordinary_area"],
        ),
        (
            {"geo": SEOUL, "occurred_at": NIGHT},
            Severity.HIGH,
            ["default", "ordinary_area"],
        ),
        (
            {"geo": GOSEONG_COAST, "confidence": 0.31},
            Severity.MEDIUM,
            ["site_rule", "area", "low_confidence"],
        ),
        (
            {"geo": HARBOUR_GATE, "detector": MOTION},
            Severity.MEDIUM,
            ["site_rule", "area", "area", "motion_only"],
        ),
        (
            {"geo": SEOUL, "detector": MOTION, "confidence": 0.2},
            Severity.LOW,
            ["site_rule", "day", "ordinary_area", "low_confidence", "motion_only"],
        ),
        (
            {"geo": GOSEONG_COAST, "object_class": ObjectClass.ANIMAL},
            Severity.LOW,
            ["site_rule", "area"],
        ),
        (
            {"geo": GOSEONG_COAST, "exercise": True},
            Severity.HIGH,
            ["site_rule", "area", "exercise"],
        ),
        (
            {"geo": None},
            Severity.HIGH,
            ["default"],
        ),
    ],
    ids=[
        "key-infrastructure",
        "coast-crossing",
        "coast-loitering-day",
        "coast-loitering-night",
        "ordinary-day",
        "ordinary-night",
        "low-confidence",
        "motion-only-capped",
        "motion-only-unsure",
        "animal",
        "exercise",
        "unknown-position",
    ],
)
def test_demo_site_severity_and_its_reasons(
    event: dict[str, Any], severity: Severity, expected: list[str]
) -> None:
    decision = decide(**event)
    assert (decision.severity, codes(decision)) == (severity, expected)


def test_reasons_name_the_rule_the_areas_and_the_numbers() -> None:
    gate = decide(geo=HARBOUR_GATE, detector=MOTION, confidence=0.42)
    assert [(r.code, r.params) for r in gate.reasons] == [
        (SeverityReasonCode.SITE_RULE, {"name": "key-infrastructure-intrusion", "severity": "critical"}),
        (SeverityReasonCode.AREA, {"name": "incheon-inner-harbour", "kind": "coast"}),
        (SeverityReasonCode.AREA, {"name": "incheon-harbour-gate", "kind": "key_infrastructure"}),
        (SeverityReasonCode.LOW_CONFIDENCE, {"confidence": "0.42", "threshold": "0.50"}),
        (SeverityReasonCode.MOTION_ONLY, {"cap": "medium"}),
    ]
    assert gate.severity is Severity.MEDIUM
    assert gate.share_with == ("military", "police", "infrastructure", "coast_guard"), "sharing stays"


def test_an_unknown_detector_is_not_capped() -> None:
    assert decide(geo=HARBOUR_GATE, detector=None).severity is Severity.CRITICAL


def test_caps_and_the_confidence_threshold_are_configurable() -> None:
    config = SeverityConfig(motion_only_cap=None, low_confidence=0.0, exercise_cap=Severity.LOW)
    unsure = decide(config, geo=HARBOUR_GATE, detector=MOTION, confidence=0.1)
    assert (unsure.severity, codes(unsure)) == (Severity.CRITICAL, ["site_rule", "area", "area"])
    drill = decide(config, geo=HARBOUR_GATE, exercise=True)
    assert drill.severity is Severity.LOW
    assert drill.reasons[-1].params == {"cap": "low"}
    high_cap = SeverityConfig(motion_only_cap=Severity.HIGH)
    assert decide(high_cap, geo=HARBOUR_GATE, detector=MOTION).severity is Severity.HIGH


def test_ordinary_is_reserved_for_places_outside_the_named_areas() -> None:
    area = NamedArea(name="x", kind="ordinary", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])
    with pytest.raises(ValidationError, match="'ordinary' is reserved"):
        SeverityConfig(areas=[area])


# -- the incident side ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, sqlite_db: Database, evidence: EvidenceStore) -> Iterator[HubService]:
    """A fusing hub on SQLite, and on PostgreSQL (COPY and set-based updates of the JSON columns)."""
    if request.param == "sqlite":
        yield HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
        return
    for url in pg_schema_url():
        db = Database(url)
        db.migrate()
        try:
            yield HubService(db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
        finally:
            db.close()


def test_a_motion_only_incident_is_marked_capped_and_explained(hub: HubService) -> None:
    result = hub.ingest.event(
        make_message(geo=HARBOUR_GATE, occurred_at=DAY, detector=MOTION, rule_name="gate")
    )
    incident = result.incident
    assert incident is not None
    assert (incident.motion_only, incident.detector_models, incident.severity) == (True, (), Severity.MEDIUM)
    assert incident.rule_name == "gate"
    assert [r.code for r in incident.severity_reasons][-1] is SeverityReasonCode.MOTION_ONLY
    stored = hub.incidents.get(incident.id)
    assert stored is not None
    assert (stored.motion_only, stored.severity_reasons) == (True, incident.severity_reasons)


def test_a_model_event_joining_lifts_the_mark_and_the_cap(hub: HubService) -> None:
    first = make_message(geo=HARBOUR_GATE, occurred_at=DAY, detector=MOTION, seed=1)
    later = DAY + timedelta(seconds=2)
    second = make_message(geo=HARBOUR_GATE, occurred_at=later, detector=NANODET, seed=2)
    hub.ingest.event(first)
    incident = hub.ingest.event(second).incident
    assert incident is not None and len(incident.event_ids) == 2
    assert (incident.motion_only, incident.detector_models) == (False, ("nanodet",))
    assert incident.severity is Severity.CRITICAL
    assert SeverityReasonCode.MOTION_ONLY not in {r.code for r in incident.severity_reasons}


def test_events_of_older_edges_leave_the_detector_unknown(hub: HubService) -> None:
    incident = hub.ingest.event(make_message(geo=SEOUL, occurred_at=NIGHT, detector=None)).incident
    assert incident is not None
    assert (incident.motion_only, incident.detector_models, incident.severity) == (False, (), Severity.HIGH)


def test_the_incident_json_carries_the_codes_the_page_renders(hub: HubService) -> None:
    message = make_message(geo=GOSEONG_COAST, occurred_at=DAY, detector=NANODET, rule_name="coast-fence")
    incident = hub.ingest.event(message).incident
    assert incident is not None
    data = incident.model_dump(mode="json")
    assert {k: data[k] for k in ("rule", "object_class", "rule_name", "motion_only", "detector_models")} == {
        "rule": "zone_intrusion",
        "object_class": "person",
        "rule_name": "coast-fence",
        "motion_only": False,
        "detector_models": ["nanodet"],
    }
    assert data["severity_reasons"][0] == {
        "code": "site_rule",
        "params": {"name": "coast-intrusion", "severity": "high"},
    }


def test_merge_and_split_carry_detectors_and_reasons(hub: HubService) -> None:
    guessed = hub.ingest.event(make_message(geo=HARBOUR_GATE, occurred_at=DAY, detector=MOTION, seed=1))
    seen = hub.ingest.event(make_message(geo=SEOUL, occurred_at=NIGHT, detector=NANODET, seed=2, track_id=9))
    assert guessed.incident is not None and seen.incident is not None
    merged = hub.ingest.merge(guessed.incident.id, [seen.incident.id], "same person", "duty1")
    assert (merged.motion_only, merged.detector_models, merged.severity) == (
        False,
        ("nanodet",),
        Severity.HIGH,
    )
    assert [r.code.value for r in merged.severity_reasons] == ["default", "ordinary_area"]
    rest, new = hub.ingest.split(merged.id, [seen.event_id], "not the same", "duty1")
    assert (new.motion_only, new.detector_models, new.severity) == (False, ("nanodet",), Severity.HIGH)
    assert new.rule_name == "fence-north"
    assert (rest.motion_only, rest.detector_models) == (True, ()), "the rest's detectors are its own"
    assert rest.severity is Severity.HIGH, "a split leaves the original's severity as it was"
