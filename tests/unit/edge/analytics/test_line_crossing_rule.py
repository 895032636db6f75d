"""Line crossing on scripted anchors: a line from (0, 100) to (200, 100), drawn left to right."""

from collections.abc import Callable, Sequence

import pytest
import supervision as sv

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules import LineCrossingConfig, LineCrossingRule, build_rule, crossing_direction

TrackedAt = Callable[..., sv.Detections]  # the ``at`` fixture of conftest.py

START, END = (0.0, 100.0), (200.0, 100.0)


def line_rule(direction: str = "both", **overrides: object) -> LineCrossingRule:
    settings: dict[str, object] = {
        "type": "line_crossing",
        "name": "fence",
        "start": START,
        "end": END,
        "direction": direction,
    }
    settings.update(overrides)
    rule = build_rule(LineCrossingConfig.model_validate(settings))
    assert isinstance(rule, LineCrossingRule)
    return rule


def walk(
    rule: LineCrossingRule, at: TrackedAt, path: Sequence[tuple[float, float]], track: int = 4
) -> list[str | None]:
    """Move one track along ``path`` at 10 fps; return the direction of every hit."""
    hits = []
    for frame, point in enumerate(path):
        hits += rule.update(at({track: point}), frame / 10)
    assert all(hit.rule is RuleKind.LINE_CROSSING and hit.tracker_id == track for hit in hits)
    return [hit.direction for hit in hits]


DOWN = [(100.0, y) for y in range(40, 170, 20)]  # left side -> right side: "in"
UP = list(reversed(DOWN))


@pytest.mark.parametrize(
    ("direction", "path", "expected"),
    [
        ("in", DOWN, ["in"]),
        ("in", UP, []),
        ("out", UP, ["out"]),
        ("out", DOWN, []),
        ("both", DOWN, ["in"]),
        ("both", UP, ["out"]),
    ],
)
def test_crossing_in_each_direction(
    at: TrackedAt, direction: str, path: list[tuple[float, float]], expected: list[str]
) -> None:
    assert walk(line_rule(direction), at, path) == expected


def test_hit_details(at: TrackedAt) -> None:
    rule = line_rule("in")
    hits = []
    for frame, point in enumerate(DOWN):
        hits += [(frame, hit) for hit in rule.update(at({4: point}), frame / 10)]
    assert len(hits) == 1
    frame, hit = hits[0]
    assert frame == 4  # y 100 (frame 3) is on the line; the crossing completes at y 120
    assert hit.rule_name == "fence"
    assert hit.now_s == hit.first_seen_s == pytest.approx(0.4)
    assert hit.dwell_s is None


def test_both_fires_on_every_recrossing(at: TrackedAt) -> None:
    path = [(100.0, 90.0), (100.0, 110.0), (100.0, 90.0), (100.0, 110.0), (100.0, 115.0)]
    assert walk(line_rule("both"), at, path) == ["in", "out", "in"]


def test_moving_parallel_or_beside_the_segment_never_fires(at: TrackedAt) -> None:
    parallel = [(x, 90.0) for x in range(-50, 300, 10)]
    beyond_end = [(260.0, y) for y in range(40, 170, 10)]
    jitter = [(100.0, 99.0 + (frame % 2) * 0.5) for frame in range(20)]
    assert walk(line_rule(), at, parallel) == []
    assert walk(line_rule(), at, beyond_end) == []
    assert walk(line_rule(), at, jitter) == []


def test_a_large_jump_across_the_segment_counts(at: TrackedAt) -> None:
    assert walk(line_rule(), at, [(20.0, 0.0), (180.0, 400.0)]) == ["in"]


def test_no_crossing_across_a_long_gap(at: TrackedAt) -> None:
    rule = line_rule(max_gap_s=0.5)
    assert rule.update(at({4: (100.0, 50.0)}), 0.0) == []
    assert rule.update(at({4: (100.0, 150.0)}), 2.0) == []
    assert rule.tracks_in_memory == 1
    rule.update(at({}), 10.0)
    assert rule.tracks_in_memory == 0


def test_class_filter_and_unconfirmed_tracks(at: TrackedAt) -> None:
    rule = line_rule(classes=["vehicle"])
    hits = []
    for frame, (x, y) in enumerate(DOWN):
        frame_detections = at(
            {1: (x, y), 2: (x + 30, y), -1: (x + 60, y)},
            {1: ObjectClass.PERSON, 2: ObjectClass.VEHICLE, -1: ObjectClass.VEHICLE},
        )
        hits += rule.update(frame_detections, frame / 10)
    assert [(hit.tracker_id, hit.detection_index) for hit in hits] == [(2, 1)]


def test_crossing_direction_convention() -> None:
    # Horizontal line drawn left to right: "in" is moving down the image.
    assert crossing_direction((5.0, -1.0), (5.0, 1.0), (0.0, 0.0), (10.0, 0.0)) == "in"
    assert crossing_direction((5.0, 1.0), (5.0, -1.0), (0.0, 0.0), (10.0, 0.0)) == "out"
    # Vertical line drawn top to bottom: its left side is the image's right, so "in" moves leftwards.
    assert crossing_direction((1.0, 5.0), (-1.0, 5.0), (0.0, 0.0), (0.0, 10.0)) == "in"
    # Touching an end of the segment counts; passing beside it does not.
    assert crossing_direction((10.0, -1.0), (10.0, 1.0), (0.0, 0.0), (10.0, 0.0)) == "in"
    assert crossing_direction((10.5, -1.0), (10.5, 1.0), (0.0, 0.0), (10.0, 0.0)) is None
    # Ending exactly on the line is not yet a crossing.
    assert crossing_direction((5.0, -1.0), (5.0, 0.0), (0.0, 0.0), (10.0, 0.0)) is None


def test_time_going_backwards_forgets_positions(at: TrackedAt) -> None:
    rule = line_rule("both")
    assert rule.update(at({4: (100.0, 60.0)}), 5.0) == []
    # the stream restarted: an earlier time on the other side is a new start, not a crossing
    assert rule.update(at({4: (100.0, 140.0)}), 1.0) == []
    hits = rule.update(at({4: (100.0, 60.0)}), 1.1)
    assert [hit.direction for hit in hits] == ["out"], "after the restart, crossings count again"
