"""Alarm-level evaluation on scripted ground truth and alarms with known answers (10 fps clock)."""

import numpy as np
import pytest

from hwarang.edge.analytics.rules import parse_rule_config
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.evaluation import (
    AlarmEvaluator,
    GroundTruthFrame,
    LineSpec,
    RaisedAlarm,
    ZoneSpec,
    alarm_spec,
)

FPS = 10
ZONE = ZoneSpec("yard", ((100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)), 1.0, 0.5)
LINE = LineSpec("wire", (200.0, 400.0), (200.0, 0.0), "both")  # pointing up: "in" is left to right
INSIDE, OUTSIDE = (200.0, 200.0), (50.0, 200.0)


def box(foot: tuple[float, float]) -> tuple[float, float, float, float]:
    x, y = foot
    return (x - 10.0, y - 40.0, x + 10.0, y)


def truth(people: dict[int, tuple[float, float]]) -> GroundTruthFrame:
    ids = list(people)
    return GroundTruthFrame(
        ids=np.array(ids, dtype=int),
        boxes=np.array([box(people[i]) for i in ids], dtype=np.float32).reshape(-1, 4),
    )


def feed(
    evaluator: AlarmEvaluator,
    script: list[dict[int, tuple[float, float]]],
    alarms: dict[int, list[RaisedAlarm]],
) -> None:
    for frame, people in enumerate(script):
        evaluator.add_frame(frame, frame / FPS, truth(people), alarms.get(frame, []))


def zone_alarm(frame: int, foot: tuple[float, float]) -> RaisedAlarm:
    return RaisedAlarm("yard", frame, box(foot))


def test_each_stay_reaching_the_dwell_is_expected_once() -> None:
    evaluator = AlarmEvaluator([ZONE])
    # person 1: 15 frames inside, out for 1 s (> 0.5 s grace), 12 frames inside again; person 2: 5 frames
    script = [{1: INSIDE}] * 15 + [{1: OUTSIDE}] * 10 + [{1: INSIDE}] * 12 + [{2: INSIDE}] * 5 + [{}] * 3
    feed(evaluator, script, {})
    expected = evaluator.expected()
    assert [(e.person_id, e.due_frame) for e in expected] == [(1, 10), (1, 35)]
    score = evaluator.compute()[0]
    assert (score.expected, score.raised, score.matched, score.recall, score.precision) == (
        2,
        0,
        0,
        0.0,
        None,
    )


def test_zone_alarms_matched_duplicated_and_false() -> None:
    evaluator = AlarmEvaluator([ZONE], tolerance_s=1.0)
    script = [{1: INSIDE, 2: OUTSIDE}] * 40
    alarms = {
        5: [zone_alarm(5, OUTSIDE)],  # on person 2, who is never inside: false alarm
        10: [zone_alarm(10, INSIDE)],  # due at frame 10: matched
        25: [zone_alarm(25, INSIDE)],  # same stay again (a new track id): duplicate
        30: [RaisedAlarm("yard", 30, box((600.0, 600.0)))],  # overlaps nobody: false alarm
    }
    feed(evaluator, script, alarms)
    score = evaluator.compute()[0]
    assert (score.expected, score.raised, score.matched, score.duplicates, score.false_alarms) == (
        1,
        4,
        1,
        1,
        2,
    )
    assert score.recall == 1.0 and score.precision == pytest.approx(0.25)
    outcomes = [(v.alarm.frame_index, v.person_id, v.outcome) for v in evaluator.verdicts()]
    assert outcomes == [
        (5, 2, "false_alarm"),
        (10, 1, "matched"),
        (25, 1, "duplicate"),
        (30, None, "false_alarm"),
    ]
    assert evaluator.missed() == []


def test_zone_alarm_window_opens_tolerance_before_due_and_closes_after_the_stay() -> None:
    script = [{1: OUTSIDE}] * 5 + [{1: INSIDE}] * 20 + [{1: OUTSIDE}] * 20  # due at frame 15, inside to 24
    for frame, outcome in [(4, "false_alarm"), (5, "matched"), (34, "matched"), (35, "false_alarm")]:
        evaluator = AlarmEvaluator([ZONE], tolerance_s=1.0)
        feed(evaluator, script, {frame: [zone_alarm(frame, INSIDE if frame < 25 else OUTSIDE)]})
        assert [v.outcome for v in evaluator.verdicts()] == [outcome], frame


def test_line_crossings_with_direction_and_tolerance() -> None:
    evaluator = AlarmEvaluator([LINE], tolerance_s=0.5)
    left, right = (150.0, 200.0), (250.0, 200.0)
    # person 1 crosses left -> right ("in") at frame 5 and back ("out") at frame 20
    script = [{1: left}] * 5 + [{1: right}] * 15 + [{1: left}] * 10
    alarms = {
        7: [RaisedAlarm("wire", 7, box(right), "in")],  # 0.2 s late: matched
        9: [RaisedAlarm("wire", 9, box(right), "in")],  # same crossing: duplicate
        20: [RaisedAlarm("wire", 20, box(left), "in")],  # wrong direction: false alarm
    }
    feed(evaluator, script, alarms)
    assert [(e.due_frame, e.direction) for e in evaluator.expected()] == [(5, "in"), (20, "out")]
    score = evaluator.compute()[0]
    assert (score.expected, score.raised, score.matched, score.duplicates, score.false_alarms) == (
        2,
        3,
        1,
        1,
        1,
    )
    assert score.recall == 0.5 and [(m.due_frame, m.direction) for m in evaluator.missed()] == [(20, "out")]


def test_one_way_line_expects_only_its_direction() -> None:
    evaluator = AlarmEvaluator([LineSpec("wire", (200.0, 400.0), (200.0, 0.0), "out")])
    script = [{1: (150.0, 200.0)}] * 3 + [{1: (250.0, 200.0)}] * 3 + [{1: (150.0, 200.0)}] * 3
    feed(evaluator, script, {})
    assert [(e.due_frame, e.direction) for e in evaluator.expected()] == [(6, "out")]


def test_alarm_box_must_overlap_the_person_enough() -> None:
    script = [{1: INSIDE}] * 20
    shifted = (INSIDE[0] + 14.0, INSIDE[1])  # IoU of two 20x40 boxes 14 px apart = 6/34 < 0.3
    evaluator = AlarmEvaluator([ZONE])
    feed(evaluator, script, {12: [zone_alarm(12, shifted)]})
    assert evaluator.compute()[0].false_alarms == 1
    evaluator = AlarmEvaluator([ZONE], min_iou=0.1)
    feed(evaluator, script, {12: [zone_alarm(12, shifted)]})
    assert evaluator.compute()[0].matched == 1


def test_specs_from_rule_configs_and_input_errors() -> None:
    zone = parse_rule_config(
        {"type": "zone_intrusion", "name": "z", "polygon": [[0, 0], [10, 0], [10, 10]], "min_dwell_s": 2}
    )
    assert alarm_spec(zone) == ZoneSpec("z", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0)), 2.0, 1.0)
    line = parse_rule_config({"type": "line_crossing", "name": "l", "start": [0, 0], "end": [0, 9]})
    assert alarm_spec(line) == LineSpec("l", (0.0, 0.0), (0.0, 9.0), "both")
    crowd = parse_rule_config(
        {"type": "crowding", "name": "c", "polygon": [[0, 0], [10, 0], [10, 10]], "min_count": 3}
    )
    assert alarm_spec(crowd) is None
    with pytest.raises(AnalyticsError, match="unique"):
        AlarmEvaluator([ZONE, ZONE])
    evaluator = AlarmEvaluator([ZONE])
    evaluator.add_frame(3, 0.3, None)
    with pytest.raises(AnalyticsError, match="does not follow frame 3"):
        evaluator.add_frame(3, 0.4, None)
    with pytest.raises(AnalyticsError, match="is for frame 9"):
        evaluator.add_frame(4, 0.4, None, [zone_alarm(9, INSIDE)])
    evaluator.add_frame(5, 0.5, None, [RaisedAlarm("other", 5, box(INSIDE))])
    with pytest.raises(AnalyticsError, match="not evaluated: \\['other'\\]"):
        evaluator.compute()
