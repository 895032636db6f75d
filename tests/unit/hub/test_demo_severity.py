"""The demo site's severities: a spread, not every incident ``high``, each for reasons it states.

Each configured rule of the demo cameras fires on a person at the middle of its zone (or line),
placed on the map through the camera's field of view as the edge does; the PETS camera runs a
model, the synthetic perimeter cameras the motion-only fallback.
"""

from datetime import UTC, datetime

import pytest
from shapely.geometry import LineString, Polygon

from hwarang.config.loader import load_config
from hwarang.domain import AdminLocation, DetectorInfo, RuleKind, Severity
from hwarang.edge.camera_setup import build_camera, build_center
from hwarang.geo.calibration import projector_for
from hwarang.hub.fusion.severity import SeverityDecision, SeverityRules
from tests.hub_support import make_event

DAY = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)  # 10:00 KST
NIGHT = datetime(2026, 5, 1, 14, 30, tzinfo=UTC)  # 23:30 KST
FRAME = {"icn-harbour-plaza-01": (768, 576)}  # the PETS clip; synthetic cameras give their size
MODEL = DetectorInfo(kind="model", model="nanodet")
MOTION = DetectorInfo(kind="motion")


def _lookup(lat: float, lon: float) -> AdminLocation:
    return AdminLocation(sido_code="28", sido_name="-", sigungu_code="28110")


def demo_decisions(at: datetime) -> dict[tuple[str, str], SeverityDecision]:
    """(camera, rule) -> the decision for a person at the middle of that rule's zone or line."""
    config = load_config(None)
    rules = SeverityRules(config.hub.fusion.severity)
    found: dict[tuple[str, str], SeverityDecision] = {}
    for center_config in config.edge.centers:
        center = build_center(center_config, _lookup)
        for camera_config in center_config.cameras:
            camera = build_camera(camera_config, center, _lookup)
            source = camera_config.source
            size = FRAME.get(camera.id) or (getattr(source, "width", 0), getattr(source, "height", 0))
            project = projector_for(camera, size)
            detector = MODEL if camera.id in FRAME else MOTION
            for rule in camera_config.rules:
                if hasattr(rule, "polygon"):
                    middle = Polygon(rule.polygon).representative_point()
                else:
                    middle = LineString([rule.start, rule.end]).interpolate(0.5, normalized=True)
                event = make_event(
                    camera_id=camera.id,
                    rule=RuleKind(rule.type),
                    rule_name=rule.name,
                    occurred_at=at,
                    geo=project(middle.x, middle.y),
                    detector=detector,
                    confidence=0.8,
                )
                found[(camera.id, rule.name)] = rules.decide(event)
    return found


def test_the_demo_spreads_severities_by_area_detector_and_time_of_day() -> None:
    day = {key: decision.severity for key, decision in demo_decisions(DAY).items()}
    assert day == {
        ("icn-harbour-plaza-01", "harbour-road"): Severity.CRITICAL,
        ("icn-harbour-plaza-01", "plaza-tripwire"): Severity.HIGH,
        ("icn-harbour-plaza-01", "plaza-loitering"): Severity.MEDIUM,
        ("gos-coast-fence-01", "restricted-beach"): Severity.MEDIUM,
        ("gos-coast-fence-01", "coast-fence"): Severity.MEDIUM,
        ("gos-coast-fence-02", "restricted-beach"): Severity.MEDIUM,
        ("gos-coast-fence-02", "beach-loitering"): Severity.MEDIUM,
    }
    night = demo_decisions(NIGHT)
    assert night[("icn-harbour-plaza-01", "plaza-loitering")].severity is Severity.HIGH


@pytest.mark.parametrize(
    ("camera", "rule", "codes"),
    [
        ("icn-harbour-plaza-01", "harbour-road", ["site_rule", "area", "area"]),
        ("icn-harbour-plaza-01", "plaza-tripwire", ["site_rule", "area"]),
        ("icn-harbour-plaza-01", "plaza-loitering", ["default", "area"]),
        ("gos-coast-fence-01", "coast-fence", ["site_rule", "area", "motion_only"]),
    ],
)
def test_each_demo_severity_states_its_reasons(camera: str, rule: str, codes: list[str]) -> None:
    decision = demo_decisions(DAY)[(camera, rule)]
    assert [reason.code.value for reason in decision.reasons] == codes
