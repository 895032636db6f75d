"""Crowding on scripted anchors at 10 fps."""

from collections.abc import Callable

import pytest
import supervision as sv

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules import NO_TRACK, CrowdingConfig, CrowdingRule, RuleHit, build_rule

TrackedAt = Callable[..., sv.Detections]  # the ``at`` fixture of conftest.py

SQUARE = [(100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)]
SPOTS = [(150.0, 150.0), (200.0, 200.0), (250.0, 250.0), (280.0, 120.0)]
OUTSIDE = (400.0, 400.0)


def crowding(**overrides: object) -> CrowdingRule:
    settings: dict[str, object] = {
        "type": "crowding",
        "name": "square",
        "polygon": SQUARE,
        "min_count": 3,
        "min_duration_s": 1.0,
        "exit_grace_s": 0.0,
    }
    settings.update(overrides)
    rule = build_rule(CrowdingConfig.model_validate(settings))
    assert isinstance(rule, CrowdingRule)
    return rule


def crowd(at: TrackedAt, inside: int, outside: int = 0) -> sv.Detections:
    """``inside`` tracks (ids 10, 11, ...) in the zone and ``outside`` more (ids 20, ...) beyond it."""
    anchors = {10 + i: SPOTS[i] for i in range(inside)}
    anchors.update({20 + i: (OUTSIDE[0] + 30 * i, OUTSIDE[1]) for i in range(outside)})
    return at(anchors)


def run(rule: CrowdingRule, script: list[sv.Detections]) -> list[tuple[int, RuleHit]]:
    return [
        (frame, hit) for frame, detections in enumerate(script) for hit in rule.update(detections, frame / 10)
    ]


def test_below_min_count_never_fires(at: TrackedAt) -> None:
    assert run(crowding(), [crowd(at, 2, outside=3)] * 100) == []


def test_crowd_fires_once_after_min_duration(at: TrackedAt) -> None:
    hits = run(crowding(), [crowd(at, 1)] * 5 + [crowd(at, 3, outside=1)] * 30)
    assert [frame for frame, _ in hits] == [15]
    hit = hits[0][1]
    assert hit.rule is RuleKind.CROWDING
    assert hit.tracker_id == NO_TRACK
    assert hit.count == 3
    assert hit.first_seen_s == pytest.approx(0.5)
    assert hit.dwell_s == pytest.approx(1.0)
    assert hit.detection_index == 0  # tracker id 10, the lowest counted
    assert hit.box == (140.0, 110.0, 260.0, 250.0)


def test_crowd_too_short_does_not_fire(at: TrackedAt) -> None:
    assert run(crowding(), ([crowd(at, 3)] * 9 + [crowd(at, 2)]) * 5) == []


def test_rearms_after_dropping_below(at: TrackedAt) -> None:
    script = [crowd(at, 4)] * 15 + [crowd(at, 1)] * 3 + [crowd(at, 3)] * 15
    hits = run(crowding(), script)
    assert [frame for frame, _ in hits] == [10, 28]
    assert [hit.count for _, hit in hits] == [4, 3]


def test_short_drop_within_exit_grace_does_not_rearm(at: TrackedAt) -> None:
    script = [crowd(at, 3)] * 15 + [crowd(at, 2)] * 3 + [crowd(at, 3)] * 30
    assert [frame for frame, _ in run(crowding(exit_grace_s=0.5), script)] == [10]
    assert [frame for frame, _ in run(crowding(exit_grace_s=0.0), script)] == [10, 28]


def test_class_filter_counts_only_wanted_classes(at: TrackedAt) -> None:
    rule = crowding(classes=["person"], min_duration_s=0.0)
    mixed = at({1: SPOTS[0], 2: SPOTS[1], 3: SPOTS[2]}, {3: ObjectClass.VEHICLE})
    assert rule.update(mixed, 0.0) == []
    assert len(rule.update(at({1: SPOTS[0], 2: SPOTS[1], 3: SPOTS[2]}), 0.1)) == 1
