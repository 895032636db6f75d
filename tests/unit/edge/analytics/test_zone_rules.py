"""Zone intrusion and loitering on scripted anchors, frame by frame at 10 fps."""

from collections.abc import Callable

import numpy as np
import pytest
import supervision as sv

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules import (
    DwellRule,
    LoiteringConfig,
    RuleHit,
    ZoneIntrusionConfig,
    build_rule,
)
from hwarang.edge.errors import AnalyticsError

TrackedAt = Callable[..., sv.Detections]  # the ``at`` fixture of conftest.py

SQUARE = [(100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)]
INSIDE = (200.0, 200.0)
OUTSIDE = (50.0, 50.0)
FPS = 10


def intrusion(**overrides: object) -> DwellRule:
    settings: dict[str, object] = {"type": "zone_intrusion", "name": "yard", "polygon": SQUARE}
    settings.update(overrides)
    rule = build_rule(ZoneIntrusionConfig.model_validate(settings))
    assert isinstance(rule, DwellRule)
    return rule


def run(rule: DwellRule, script: list[sv.Detections], start_frame: int = 0) -> list[tuple[int, RuleHit]]:
    """Feed one scripted frame per 1/FPS s; return (frame number, hit) pairs."""
    hits = []
    for offset, detections in enumerate(script):
        frame = start_frame + offset
        hits += [(frame, hit) for hit in rule.update(detections, frame / FPS)]
    return hits


def test_intrusion_fires_once_after_min_dwell(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.5)
    script = [at({7: OUTSIDE})] * 3 + [at({7: INSIDE})] * 20
    hits = run(rule, script)
    assert [frame for frame, _ in hits] == [8]  # entered at frame 3, 0.5 s later
    hit = hits[0][1]
    assert hit.rule_name == "yard"
    assert hit.rule is RuleKind.ZONE_INTRUSION
    assert hit.tracker_id == 7
    assert hit.detection_index == 0
    assert hit.first_seen_s == pytest.approx(0.3)
    assert hit.now_s == pytest.approx(0.8)
    assert hit.dwell_s == pytest.approx(0.5)
    assert hit.direction is None


def test_intrusion_with_zero_dwell_fires_on_entry(at: TrackedAt) -> None:
    hits = run(intrusion(min_dwell_s=0.0), [at({1: OUTSIDE}), at({1: INSIDE}), at({1: INSIDE})])
    assert [frame for frame, _ in hits] == [1]


def test_stay_shorter_than_dwell_does_not_fire(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.5, exit_grace_s=0.2)
    script = [at({1: INSIDE})] * 4 + [at({1: OUTSIDE})] * 10 + [at({1: INSIDE})] * 4
    assert run(rule, script) == []


def test_short_absence_within_exit_grace_keeps_the_stay(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=1.0, exit_grace_s=0.5)
    empty = at({})
    script = [at({1: INSIDE})] * 4 + [empty] * 3 + [at({1: OUTSIDE})] + [at({1: INSIDE})] * 10
    hits = run(rule, script)
    assert [frame for frame, _ in hits] == [10]  # one stay from frame 0; 1.0 s later
    assert hits[0][1].first_seen_s == pytest.approx(0.0)
    assert hits[0][1].dwell_s == pytest.approx(1.0)


def test_leaving_longer_than_grace_and_reentering_fires_again(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.2, exit_grace_s=0.3)
    script = [at({1: INSIDE})] * 5 + [at({1: OUTSIDE})] * 5 + [at({1: INSIDE})] * 5
    hits = run(rule, script)
    assert [frame for frame, _ in hits] == [2, 12]
    assert [hit.first_seen_s for _, hit in hits] == [pytest.approx(0.0), pytest.approx(1.0)]


def test_class_filter(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.0, classes=["vehicle"])
    script = [at({1: INSIDE, 2: INSIDE}, {1: ObjectClass.PERSON, 2: ObjectClass.VEHICLE})] * 3
    hits = run(rule, script)
    assert [(frame, hit.tracker_id, hit.detection_index) for frame, hit in hits] == [(0, 2, 1)]


def test_each_track_fires_for_itself(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.3)
    script = [at({1: INSIDE, 2: OUTSIDE})] * 2 + [at({1: INSIDE, 2: INSIDE})] * 5
    hits = run(rule, script)
    assert [(frame, hit.tracker_id) for frame, hit in hits] == [(3, 1), (5, 2)]


def test_unconfirmed_tracks_are_ignored(at: TrackedAt) -> None:
    assert run(intrusion(min_dwell_s=0.0), [at({-1: INSIDE})] * 5) == []


def test_detections_without_tracker_id_name_the_rule() -> None:
    detections = sv.Detections(xyxy=np.array([[190.0, 160.0, 210.0, 200.0]], dtype=np.float32))
    with pytest.raises(AnalyticsError, match=r"rule 'yard'.*tracker_id"):
        intrusion().update(detections, 0.0)


def test_empty_frames_are_fine() -> None:
    rule = intrusion()
    assert rule.update(sv.Detections.empty(), 0.0) == []


def test_finished_stays_are_forgotten(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.0, exit_grace_s=0.2)
    for frame in range(200):  # a new track crosses the zone every 2 frames
        rule.update(at({frame // 2: INSIDE}), frame / FPS)
    assert rule.tracks_in_memory <= 3


def test_time_going_backwards_restarts_the_rule(at: TrackedAt) -> None:
    rule = intrusion(min_dwell_s=0.2)
    first = run(rule, [at({1: INSIDE})] * 5)
    again = run(rule, [at({1: INSIDE})] * 5)  # the stream restarted at t = 0
    assert [frame for frame, _ in first] == [frame for frame, _ in again] == [2]


def loitering(dwell_s: float) -> DwellRule:
    config = LoiteringConfig(type="loitering", name="gate", polygon=SQUARE, dwell_s=dwell_s)
    rule = build_rule(config)
    assert isinstance(rule, DwellRule)
    return rule


def test_loitering_under_threshold_does_not_fire(at: TrackedAt) -> None:
    assert run(loitering(20.0), [at({3: INSIDE})] * 200) == []  # 19.9 s


def test_loitering_over_threshold_fires_once(at: TrackedAt) -> None:
    rule = loitering(20.0)
    hits = run(rule, [at({3: INSIDE})] * 300)
    assert [frame for frame, _ in hits] == [200]
    assert hits[0][1].rule is RuleKind.LOITERING
    assert hits[0][1].dwell_s == pytest.approx(20.0)
    assert rule.kind is RuleKind.LOITERING and rule.name == "gate"
