"""Line crossing: a track's anchor moving across a line segment between two frames.

supervision's ``LineZone`` tests the side of an infinite line inside a perpendicular band and drops a
track's history after two missing frames, so it misses tracks that skip frames and counts moves that
pass beyond the segment's ends. This rule instead intersects the anchor's path (previous -> current
point) with the segment itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import supervision as sv
from pydantic import Field, model_validator

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules.base import (
    MIN_LINE_LENGTH_PX,
    TIME_EPSILON_S,
    Point,
    ReacquireSettings,
    RuleConfigBase,
    RuleHit,
    StreamClock,
    anchors,
    eligible,
)
from hwarang.edge.analytics.rules.reacquire import Reacquisition

Direction = Literal["in", "out"]
XY = tuple[float, float]


class LineCrossingConfig(RuleConfigBase, ReacquireSettings):
    """Fire each time a track's anchor crosses the segment from ``start`` to ``end``.

    Sides are defined looking from ``start`` towards ``end`` in image coordinates (y down, as the
    image is displayed): ``"in"`` is a move from the left side to the right side, ``"out"`` the
    reverse, ``"both"`` either. For a line drawn left to right, ``"in"`` is moving down the image.
    """

    type: Literal["line_crossing"] = Field(description="Rule selector: line crossing.")
    start: Point = Field(description="First end of the line, [x, y] in pixels.")
    end: Point = Field(description="Second end of the line, [x, y] in pixels.")
    direction: Literal["in", "out", "both"] = Field(
        default="both",
        description="Crossings that fire: 'in' (left to right looking start->end), 'out', both.",
    )
    max_gap_s: float = Field(
        default=2.0,
        gt=0.0,
        description="Seconds a track may go unseen and keep its last position (longer gaps never cross).",
    )

    @model_validator(mode="after")
    def _check_line(self) -> "LineCrossingConfig":
        length = ((self.end[0] - self.start[0]) ** 2 + (self.end[1] - self.start[1]) ** 2) ** 0.5
        if length < MIN_LINE_LENGTH_PX:
            raise ValueError(
                f"rule {self.name!r}: line from {self.start} to {self.end} is too short "
                f"({length:.2f} px, need >= {MIN_LINE_LENGTH_PX})"
            )
        return self

    def build(self) -> "LineCrossingRule":
        """The rule this config describes."""
        return line_crossing_rule(self)


def _cross(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


def side_of_line(point: XY, start: XY, end: XY) -> float:
    """Negative when ``point`` is left of the line looking from ``start`` to ``end`` (image y down),
    positive when right, zero on the line."""
    return _cross(end[0] - start[0], end[1] - start[1], point[0] - start[0], point[1] - start[1])


def crossing_direction(previous: XY, current: XY, start: XY, end: XY) -> Direction | None:
    """``"in"`` (left -> right), ``"out"`` (right -> left) or ``None`` for a move that does not cross.

    A move crosses when its endpoints lie strictly on opposite sides of the line and the segment
    ``start``-``end`` meets the move (touching an end of the segment counts).
    """
    side_before = side_of_line(previous, start, end)
    side_after = side_of_line(current, start, end)
    if side_before == 0 or side_after == 0 or (side_before > 0) == (side_after > 0):
        return None
    move_x, move_y = current[0] - previous[0], current[1] - previous[1]
    start_side = _cross(move_x, move_y, start[0] - previous[0], start[1] - previous[1])
    end_side = _cross(move_x, move_y, end[0] - previous[0], end[1] - previous[1])
    if start_side * end_side > 0:
        return None
    return "in" if side_before < 0 else "out"


@dataclass(slots=True)
class _LastPosition:
    point: XY
    seen_s: float


class LineCrossingRule:
    """Fires once per crossing of the segment in the configured direction (every crossing for "both").

    A track unseen for up to ``max_gap_s`` keeps its last position, so a crossing during a detection
    gap fires when the track is seen again; a new track appearing near where a track was lost within
    ``reacquire_s`` takes over the lost track's last position (``Reacquisition``), so a crossing
    still fires when the tracker gave the person a new id after the gap.
    """

    def __init__(
        self,
        *,
        name: str,
        start: XY,
        end: XY,
        direction: Literal["in", "out", "both"],
        classes: Sequence[ObjectClass] | None,
        max_gap_s: float,
        min_confidence: float = 0.0,
        min_box_px: float = 0.0,
        reacquire_s: float = 0.0,
        reacquire_radius: float = 1.0,
    ) -> None:
        self._reacquisition = Reacquisition(window_s=reacquire_s, radius=reacquire_radius)
        self._min_confidence = min_confidence
        self._min_box_px = min_box_px
        self._name = name
        self._start = start
        self._end = end
        self._wanted: frozenset[str] = (
            frozenset(("in", "out")) if direction == "both" else frozenset((direction,))
        )
        self._classes = None if classes is None else tuple(classes)
        self._max_gap_s = max_gap_s
        self._positions: dict[int, _LastPosition] = {}
        self._clock = StreamClock()

    @property
    def name(self) -> str:
        """The configured rule name."""
        return self._name

    @property
    def kind(self) -> RuleKind:
        """Always line crossing."""
        return RuleKind.LINE_CROSSING

    @property
    def tracks_in_memory(self) -> int:
        """Tracks whose last position the rule remembers (unseen ones are dropped after max_gap_s)."""
        return len(self._positions)

    def reset(self) -> None:
        """Forget every track's last position."""
        self._positions.clear()
        self._reacquisition.reset()

    def update(self, detections: sv.Detections, now_s: float) -> list[RuleHit]:
        """Compare each track's anchor with its last position; return a hit per wanted crossing."""
        if self._clock.went_back(now_s):
            self.reset()
        self._positions = {
            tid: last
            for tid, last in self._positions.items()
            if now_s - last.seen_s <= self._max_gap_s + TIME_EPSILON_S
        }
        wanted, tracker_ids = eligible(
            detections,
            self._classes,
            self._name,
            min_confidence=self._min_confidence,
            min_box_px=self._min_box_px,
        )
        if not wanted.any():
            return []
        points = anchors(detections)
        chosen = np.flatnonzero(wanted)
        heights = np.asarray(detections.xyxy[chosen, 3] - detections.xyxy[chosen, 1], dtype=np.float64)
        handover = self._reacquisition.observe(
            [int(tid) for tid in tracker_ids[chosen]], points[chosen], heights, now_s
        )
        for new_id, lost_id in handover.items():
            last = self._positions.pop(lost_id, None)
            if last is not None and new_id not in self._positions:
                self._positions[new_id] = last
        hits: list[RuleHit] = []
        for index in np.flatnonzero(wanted):
            tracker_id = int(tracker_ids[index])
            point = (float(points[index, 0]), float(points[index, 1]))
            last = self._positions.get(tracker_id)
            if last is None:
                self._positions[tracker_id] = _LastPosition(point, now_s)
                continue
            direction = crossing_direction(last.point, point, self._start, self._end)
            if direction in self._wanted:
                hits.append(self._hit(tracker_id, int(index), now_s, direction))
            # A point exactly on the line is not a side; keep the last point that was on one.
            if side_of_line(point, self._start, self._end) != 0:
                last.point = point
            last.seen_s = now_s
        return hits

    def _hit(self, tracker_id: int, index: int, now_s: float, direction: str | None) -> RuleHit:
        return RuleHit(
            rule_name=self._name,
            rule=RuleKind.LINE_CROSSING,
            tracker_id=tracker_id,
            detection_index=index,
            now_s=now_s,
            first_seen_s=now_s,
            direction=direction,
        )


def line_crossing_rule(config: LineCrossingConfig) -> LineCrossingRule:
    """Build a line-crossing rule."""
    return LineCrossingRule(
        name=config.name,
        start=(config.start[0], config.start[1]),
        end=(config.end[0], config.end[1]),
        direction=config.direction,
        classes=config.classes,
        min_confidence=config.min_confidence,
        min_box_px=config.min_box_px,
        max_gap_s=config.max_gap_s,
        reacquire_s=config.reacquire_s,
        reacquire_radius=config.reacquire_radius,
    )
