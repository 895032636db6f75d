"""Re-acquired tracks: a new id near where a track was lost continues it (scripted boxes, 10 fps)."""

from collections.abc import Callable

import numpy as np
import supervision as sv

from hwarang.edge.analytics.rules import (
    LineCrossingConfig,
    LineCrossingRule,
    Rule,
    RuleHit,
    ZoneIntrusionConfig,
    build_rule,
)
from hwarang.edge.analytics.rules.reacquire import Reacquisition

TrackedAt = Callable[..., sv.Detections]  # the ``at`` fixture of conftest.py

FPS = 10
SQUARE = [(100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)]


def intrusion(**overrides: object) -> Rule:
    settings: dict[str, object] = {
        "type": "zone_intrusion",
        "name": "yard",
        "polygon": SQUARE,
        "min_dwell_s": 0.5,
    }
    return build_rule(ZoneIntrusionConfig.model_validate({**settings, **overrides}))


def tripwire(**overrides: object) -> Rule:
    # drawn upwards at x = 200: "in" is moving left to right
    settings: dict[str, object] = {
        "type": "line_crossing",
        "name": "wire",
        "start": [200, 400],
        "end": [200, 0],
    }
    rule = build_rule(LineCrossingConfig.model_validate({**settings, **overrides}))
    assert isinstance(rule, LineCrossingRule)
    return rule


def run(rule: Rule, script: list[sv.Detections]) -> list[tuple[int, RuleHit]]:
    return [
        (frame, hit)
        for frame, detections in enumerate(script)
        for hit in rule.update(detections, frame / FPS)
    ]


def walk(
    at: TrackedAt, tid: int, start: tuple[float, float], step: tuple[float, float], frames: int
) -> list[sv.Detections]:
    return [at({tid: (start[0] + step[0] * i, start[1] + step[1] * i)}) for i in range(frames)]


def test_person_reacquired_under_a_new_id_raises_one_intrusion(at: TrackedAt) -> None:
    # track 1 walks inside, fires, is lost for 1.5 s (longer than exit_grace_s 1.0), comes back as track 2
    script = walk(at, 1, (150, 200), (2, 0), 10) + [at({})] * 15 + walk(at, 2, (200, 200), (2, 0), 10)
    hits = run(intrusion(), script)
    assert [(frame, hit.tracker_id) for frame, hit in hits] == [(5, 1)]
    without = run(intrusion(reacquire_s=0), script)
    assert [(frame, hit.tracker_id) for frame, hit in without] == [(5, 1), (30, 2)]


def test_same_id_returning_after_a_loss_inside_keeps_its_stay(at: TrackedAt) -> None:
    script = walk(at, 1, (150, 200), (2, 0), 10) + [at({})] * 15 + walk(at, 1, (200, 200), (2, 0), 10)
    assert [frame for frame, _ in run(intrusion(), script)] == [5]


def test_new_id_far_away_or_too_late_is_a_new_intrusion(at: TrackedAt) -> None:
    far = walk(at, 1, (120, 200), (0, 0), 10) + [at({})] * 5 + walk(at, 2, (280, 200), (0, 0), 10)
    assert [hit.tracker_id for _, hit in run(intrusion(), far)] == [1, 2]  # 160 px > one 40 px box height
    late = walk(at, 1, (150, 200), (0, 0), 10) + [at({})] * 25 + walk(at, 2, (150, 200), (0, 0), 10)
    assert [hit.tracker_id for _, hit in run(intrusion(), late)] == [1, 2]  # lost 2.6 s > reacquire_s 2.0


def test_a_track_that_left_the_zone_visibly_is_not_kept_for_reacquire_s(at: TrackedAt) -> None:
    outside = (50.0, 200.0)
    script = (
        walk(at, 1, (150, 200), (0, 0), 10) + [at({1: outside})] * 15 + walk(at, 1, (150, 200), (0, 0), 10)
    )
    assert [frame for frame, _ in run(intrusion(), script)] == [5, 30]  # left for 1.5 s: a new stay


def test_crossing_during_a_gap_survives_a_new_track_id(at: TrackedAt) -> None:
    # track 1 walks right towards the line, is lost just before it, reappears beyond it as track 2
    script = walk(at, 1, (150, 200), (4, 0), 10) + [at({})] * 8 + walk(at, 2, (230, 200), (4, 0), 5)
    hits = run(tripwire(), script)
    assert [(frame, hit.tracker_id, hit.direction) for frame, hit in hits] == [(18, 2, "in")]
    assert run(tripwire(reacquire_s=0), script) == []  # the old behaviour: the crossing is lost


def test_crossing_during_a_gap_with_the_same_id(at: TrackedAt) -> None:
    script = walk(at, 1, (150, 200), (4, 0), 10) + [at({})] * 8 + walk(at, 1, (230, 200), (4, 0), 5)
    assert [(frame, hit.direction) for frame, hit in run(tripwire(), script)] == [(18, "in")]


def test_reacquisition_predicts_along_the_last_speed_and_pairs_each_lost_track_once() -> None:
    reacquisition = Reacquisition(window_s=2.0, radius=1.0)
    heights = np.array([40.0])
    for frame in range(10):  # 100 px/s to the right
        assert reacquisition.observe([1], np.array([[100.0 + 10 * frame, 200.0]]), heights, frame / FPS) == {}
    # last seen at (190, 200) at 0.9 s; at 1.9 s it is predicted near (290, 200)
    pairs = reacquisition.observe(
        [2, 3], np.array([[285.0, 200.0], [190.0, 200.0]]), np.array([40.0, 40.0]), 1.9
    )
    assert pairs == {2: 1}
    still = np.array([[295.0, 200.0], [190.0, 200.0], [300.0, 200.0]])
    assert reacquisition.observe([2, 3, 4], still, np.full(3, 40.0), 2.0) == {}  # 1 was taken already
    assert Reacquisition(window_s=0.0, radius=1.0).observe([5], np.array([[0.0, 0.0]]), heights, 0.0) == {}
