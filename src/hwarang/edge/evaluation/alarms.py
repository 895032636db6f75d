"""Alarm-level evaluation: the alarms a site's rules should raise on a clip, and how many they did.

Expected alarms come from MOTChallenge ground truth, person by person, using each box's foot point
(bottom centre), exactly as the rules see tracked boxes:

- a **zone** rule (intrusion, loitering) expects one alarm per *stay*: the person's foot point enters
  the polygon and the stay lasts the rule's dwell. A stay ends once the person has been outside (or
  not annotated) for longer than the rule's ``exit_grace_s``; coming back later is a new stay. The
  alarm is due when the dwell is reached.
- a **line** rule expects one alarm per crossing of the segment in a wanted direction, due at the
  first frame on the new side.

A raised alarm belongs to the ground-truth person whose box overlaps the alarm's box best at the
alarm's frame (IoU >= ``min_iou``, default 0.3); none: a false alarm. It matches an expected alarm of
that person and rule (and direction) when it is raised inside the expected alarm's window:

- zone: from ``tolerance_s`` before the due time to ``tolerance_s`` after the person's last moment
  inside that stay (an alarm raised late, while the person is still inside, is still right);
- line: within ``tolerance_s`` of the crossing (default 1 s = 10 frames at the PETS clip's 10 fps).

The first alarm in a window is ``matched``; any further alarm for the same stay or crossing is a
``duplicate``. ``recall = matched / expected`` and ``precision = matched / raised``, so duplicates
and false alarms both lower precision. Time is each frame's stream time, passed in by the caller.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import supervision as sv

from hwarang.edge.analytics.rules.base import TIME_EPSILON_S, polygon_zone
from hwarang.edge.analytics.rules.config import (
    LineCrossingConfig,
    LoiteringConfig,
    RuleConfig,
    ZoneIntrusionConfig,
)
from hwarang.edge.analytics.rules.line import crossing_direction, side_of_line
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.evaluation.metrics import GroundTruthFrame

XY = tuple[float, float]
Box = tuple[float, float, float, float]
DEFAULT_TOLERANCE_S = 1.0
DEFAULT_MIN_IOU = 0.3


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """What the evaluator needs of a zone rule: its polygon, dwell and exit grace."""

    name: str
    polygon: tuple[XY, ...]
    dwell_s: float
    exit_grace_s: float


@dataclass(frozen=True, slots=True)
class LineSpec:
    """What the evaluator needs of a line rule: its segment and wanted direction."""

    name: str
    start: XY
    end: XY
    direction: Literal["in", "out", "both"]

    @property
    def directions(self) -> frozenset[str]:
        """The crossing directions that raise an alarm."""
        return frozenset(("in", "out")) if self.direction == "both" else frozenset((self.direction,))


AlarmSpec = ZoneSpec | LineSpec


def alarm_spec(config: RuleConfig) -> AlarmSpec | None:
    """The evaluator's view of a rule; ``None`` for rules with no per-person alarm (crowding)."""
    if isinstance(config, ZoneIntrusionConfig | LoiteringConfig):
        dwell = config.min_dwell_s if isinstance(config, ZoneIntrusionConfig) else config.dwell_s
        polygon = tuple((float(x), float(y)) for x, y in config.polygon)
        return ZoneSpec(config.name, polygon, dwell, config.exit_grace_s)
    if isinstance(config, LineCrossingConfig):
        start = (float(config.start[0]), float(config.start[1]))
        end = (float(config.end[0]), float(config.end[1]))
        return LineSpec(config.name, start, end, config.direction)
    return None


@dataclass(frozen=True, slots=True)
class RaisedAlarm:
    """One alarm the pipeline raised: its rule, frame, box and (line rules) direction."""

    rule_name: str
    frame_index: int
    box: Box
    direction: str | None = None
    track_id: int = -1


@dataclass(frozen=True, slots=True)
class ExpectedAlarm:
    """One alarm the ground truth calls for; ``opens_s``..``closes_s`` is its matching window."""

    rule_name: str
    person_id: int
    due_frame: int
    due_s: float
    opens_s: float
    closes_s: float
    direction: str | None = None


@dataclass(frozen=True, slots=True)
class AlarmVerdict:
    """What one raised alarm counted as, the person it overlaps (``None``: nobody) and its match."""

    alarm: RaisedAlarm
    person_id: int | None
    outcome: Literal["matched", "duplicate", "false_alarm"]
    expected: ExpectedAlarm | None


@dataclass(frozen=True, slots=True)
class RuleScore:
    """Counts and rates of one rule (rates are ``None`` when their denominator is zero)."""

    rule_name: str
    kind: Literal["zone", "line"]
    expected: int
    raised: int
    matched: int
    duplicates: int
    false_alarms: int
    recall: float | None
    precision: float | None


@dataclass(frozen=True, slots=True)
class _Frame:
    index: int
    now_s: float
    truth: GroundTruthFrame


@dataclass(slots=True)
class AlarmEvaluator:
    """Accumulates frames (stream time, ground truth, alarms raised); ``compute`` scores each rule."""

    specs: Sequence[AlarmSpec]
    tolerance_s: float = DEFAULT_TOLERANCE_S
    min_iou: float = DEFAULT_MIN_IOU
    _frames: list[_Frame] = field(default_factory=list)
    _alarms: list[RaisedAlarm] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.specs]
        if len(set(names)) != len(names):
            raise AnalyticsError(f"alarm evaluation: rule names must be unique, got {names}")
        if self.tolerance_s < 0 or not 0 < self.min_iou <= 1:
            raise AnalyticsError(
                f"alarm evaluation: tolerance_s must be >= 0 and min_iou in (0, 1], "
                f"got {self.tolerance_s} and {self.min_iou}"
            )

    def add_frame(
        self,
        frame_index: int,
        now_s: float,
        truth: GroundTruthFrame | None,
        alarms: Sequence[RaisedAlarm] = (),
    ) -> None:
        """One frame, in order: its stream time, its ground truth (``None``: nobody) and its alarms."""
        if self._frames and (frame_index <= self._frames[-1].index or now_s < self._frames[-1].now_s):
            raise AnalyticsError(
                f"alarm evaluation: frame {frame_index} at {now_s:.3f} s does not follow frame "
                f"{self._frames[-1].index} at {self._frames[-1].now_s:.3f} s"
            )
        empty = GroundTruthFrame(np.zeros(0, dtype=int), np.zeros((0, 4), dtype=np.float32))
        self._frames.append(_Frame(frame_index, now_s, truth or empty))
        for alarm in alarms:
            if alarm.frame_index != frame_index:
                raise AnalyticsError(
                    f"alarm evaluation: alarm of rule {alarm.rule_name!r} is for frame "
                    f"{alarm.frame_index}, added with frame {frame_index}"
                )
            self._alarms.append(alarm)

    def expected(self) -> list[ExpectedAlarm]:
        """Every alarm the ground truth calls for, rule by rule, in time order."""
        tracks = self._person_tracks()
        found: list[ExpectedAlarm] = []
        for spec in self.specs:
            for person_id, track in tracks.items():
                if isinstance(spec, ZoneSpec):
                    found.extend(self._zone_alarms(spec, person_id, track))
                else:
                    found.extend(self._line_alarms(spec, person_id, track))
        return sorted(found, key=lambda alarm: (alarm.rule_name, alarm.due_s, alarm.person_id))

    def verdicts(self) -> list[AlarmVerdict]:
        """Every raised alarm with the person it overlaps and what it counted as, in time order."""
        known = {spec.name for spec in self.specs}
        unknown = sorted({alarm.rule_name for alarm in self._alarms} - known)
        if unknown:
            raise AnalyticsError(f"alarm evaluation: alarms of rules that are not evaluated: {unknown}")
        expected = self.expected()
        return [
            verdict
            for spec in self.specs
            for verdict in self._judge(spec, [e for e in expected if e.rule_name == spec.name])
        ]

    def compute(self) -> list[RuleScore]:
        """Score every rule's raised alarms against the expected ones."""
        verdicts = self.verdicts()
        expected = self.expected()
        scores: list[RuleScore] = []
        for spec in self.specs:
            outcomes = [v.outcome for v in verdicts if v.alarm.rule_name == spec.name]
            wanted = sum(1 for e in expected if e.rule_name == spec.name)
            matched = outcomes.count("matched")
            scores.append(
                RuleScore(
                    rule_name=spec.name,
                    kind="zone" if isinstance(spec, ZoneSpec) else "line",
                    expected=wanted,
                    raised=len(outcomes),
                    matched=matched,
                    duplicates=outcomes.count("duplicate"),
                    false_alarms=outcomes.count("false_alarm"),
                    recall=matched / wanted if wanted else None,
                    precision=matched / len(outcomes) if outcomes else None,
                )
            )
        return scores

    def missed(self) -> list[ExpectedAlarm]:
        """Expected alarms that no raised alarm matched."""
        hit = {v.expected for v in self.verdicts() if v.outcome == "matched"}
        return [e for e in self.expected() if e not in hit]

    def _judge(self, spec: AlarmSpec, expected: list[ExpectedAlarm]) -> list[AlarmVerdict]:
        times = {frame.index: frame for frame in self._frames}
        taken: set[int] = set()
        verdicts: list[AlarmVerdict] = []
        for alarm in (alarm for alarm in self._alarms if alarm.rule_name == spec.name):
            frame = times[alarm.frame_index]
            person = self._person_at(frame.truth, alarm.box)
            candidates = [
                number
                for number, wanted in enumerate(expected)
                if wanted.person_id == person
                and wanted.opens_s - TIME_EPSILON_S <= frame.now_s <= wanted.closes_s + TIME_EPSILON_S
                and (wanted.direction is None or wanted.direction == alarm.direction)
            ]
            free = [number for number in candidates if number not in taken]
            if free:
                chosen = min(free, key=lambda number: abs(expected[number].due_s - frame.now_s))
                taken.add(chosen)
                verdicts.append(AlarmVerdict(alarm, person, "matched", expected[chosen]))
            elif candidates:
                verdicts.append(AlarmVerdict(alarm, person, "duplicate", expected[candidates[0]]))
            else:
                verdicts.append(AlarmVerdict(alarm, person, "false_alarm", None))
        return verdicts

    def _person_at(self, truth: GroundTruthFrame, box: Box) -> int | None:
        if len(truth.ids) == 0:
            return None
        alarm_box = np.asarray([box], dtype=np.float64)
        iou = np.asarray(sv.box_iou_batch(truth.boxes.astype(np.float64), alarm_box))[:, 0]
        best = int(np.argmax(iou))
        return int(truth.ids[best]) if iou[best] >= self.min_iou else None

    def _person_tracks(self) -> dict[int, list[tuple[_Frame, Box]]]:
        tracks: dict[int, list[tuple[_Frame, Box]]] = {}
        for frame in self._frames:
            for person_id, row in zip(frame.truth.ids.tolist(), frame.truth.boxes.tolist(), strict=True):
                box = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
                tracks.setdefault(int(person_id), []).append((frame, box))
        return tracks

    def _zone_alarms(
        self, spec: ZoneSpec, person_id: int, track: list[tuple[_Frame, Box]]
    ) -> list[ExpectedAlarm]:
        inside = _inside(spec, [box for _, box in track])
        alarms: list[ExpectedAlarm] = []
        stay: list[_Frame] = []
        for (frame, _), is_inside in zip(track, inside.tolist(), strict=True):
            if not is_inside:
                continue
            if stay and frame.now_s - stay[-1].now_s > spec.exit_grace_s + TIME_EPSILON_S:
                alarms.extend(_stay_alarm(spec, person_id, stay, self.tolerance_s))
                stay = []
            stay.append(frame)
        alarms.extend(_stay_alarm(spec, person_id, stay, self.tolerance_s))
        return alarms

    def _line_alarms(
        self, spec: LineSpec, person_id: int, track: list[tuple[_Frame, Box]]
    ) -> list[ExpectedAlarm]:
        alarms: list[ExpectedAlarm] = []
        last: XY | None = None
        for frame, box in track:
            point = ((box[0] + box[2]) / 2.0, box[3])
            if last is not None:
                direction = crossing_direction(last, point, spec.start, spec.end)
                if direction is not None and direction in spec.directions:
                    alarms.append(
                        ExpectedAlarm(
                            rule_name=spec.name,
                            person_id=person_id,
                            due_frame=frame.index,
                            due_s=frame.now_s,
                            opens_s=frame.now_s - self.tolerance_s,
                            closes_s=frame.now_s + self.tolerance_s,
                            direction=direction,
                        )
                    )
            if (
                side_of_line(point, spec.start, spec.end) != 0
            ):  # as the rule does: a point on the line is not a side
                last = point
        return alarms


def _inside(spec: ZoneSpec, boxes: list[Box]) -> npt.NDArray[np.bool_]:
    if not boxes:
        return np.zeros(0, dtype=bool)
    detections = sv.Detections(xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
    mask: npt.NDArray[np.bool_] = np.asarray(polygon_zone(spec.polygon).trigger(detections), dtype=bool)
    return mask


def _stay_alarm(
    spec: ZoneSpec, person_id: int, stay: list[_Frame], tolerance_s: float
) -> list[ExpectedAlarm]:
    if not stay:
        return []
    entered = stay[0].now_s
    due = next((frame for frame in stay if frame.now_s - entered + TIME_EPSILON_S >= spec.dwell_s), None)
    if due is None:
        return []
    return [
        ExpectedAlarm(
            rule_name=spec.name,
            person_id=person_id,
            due_frame=due.index,
            due_s=due.now_s,
            opens_s=due.now_s - tolerance_s,
            closes_s=stay[-1].now_s + tolerance_s,
        )
    ]
