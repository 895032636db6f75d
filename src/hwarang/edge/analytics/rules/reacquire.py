"""Re-acquisition: a new track id that is really a track lost a moment ago, near where it was lost.

A detector that misses a person for a few frames (occlusion by a post, a bad pose) makes ByteTrack
start a new track when the person is found again. Rules that keep per-track state (a zone stay, the
last side of a line) would treat that as a new person: a second intrusion, or a crossing missed
because the new track is first seen on the far side. ``Reacquisition`` pairs each new track with
the nearest lost track whose position, moved on at its last speed, is within ``radius`` box heights,
when the loss is at most ``window_s`` old; the rule then hands the lost track's state to the new id.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hwarang.edge.analytics.rules.base import TIME_EPSILON_S

XY = tuple[float, float]
VELOCITY_SPAN_S = 1.0
"""Seconds of a track's recent positions its speed is measured over."""
MIN_VELOCITY_SPAN_S = 0.2
"""Shorter histories give no speed (the track is taken as standing still)."""


@dataclass(slots=True)
class _Seen:
    point: XY
    seen_s: float
    height: float
    history: deque[tuple[float, XY]] = field(default_factory=deque)

    def predicted(self, now_s: float) -> XY:
        oldest_s, oldest = self.history[0]
        span = self.seen_s - oldest_s
        if span < MIN_VELOCITY_SPAN_S:
            return self.point
        gap = now_s - self.seen_s
        return (
            self.point[0] + (self.point[0] - oldest[0]) / span * gap,
            self.point[1] + (self.point[1] - oldest[1]) / span * gap,
        )


class Reacquisition:
    """Remembers recently seen tracks; ``observe`` says which new ids continue a lost one."""

    def __init__(self, *, window_s: float, radius: float) -> None:
        self._window_s = window_s
        self._radius = radius
        self._seen: dict[int, _Seen] = {}

    def reset(self) -> None:
        """Forget every track."""
        self._seen.clear()

    def observe(
        self,
        tracker_ids: Sequence[int],
        points: npt.NDArray[np.float64],
        heights: npt.NDArray[np.float64],
        now_s: float,
    ) -> dict[int, int]:
        """Record this frame's tracks (anchor points, box heights); return ``{new id: lost id}``.

        A track is lost when it is not in this frame; it can be re-acquired once, within
        ``window_s`` of when it was last seen. With ``window_s`` 0 nothing is ever paired.
        """
        self._seen = {
            tid: seen
            for tid, seen in self._seen.items()
            if now_s - seen.seen_s <= self._window_s + TIME_EPSILON_S
        }
        present = set(tracker_ids)
        handover = self._pair(tracker_ids, points, heights, now_s, present) if self._window_s > 0 else {}
        for lost in handover.values():
            del self._seen[lost]
        for tid, point, height in zip(tracker_ids, points.tolist(), heights.tolist(), strict=True):
            self._remember(tid, (float(point[0]), float(point[1])), float(height), now_s)
        return handover

    def _pair(
        self,
        tracker_ids: Sequence[int],
        points: npt.NDArray[np.float64],
        heights: npt.NDArray[np.float64],
        now_s: float,
        present: set[int],
    ) -> dict[int, int]:
        lost = {tid: seen for tid, seen in self._seen.items() if tid not in present and seen.seen_s < now_s}
        if not lost:
            return {}
        options: list[tuple[float, int, int]] = []
        for tid, point, height in zip(tracker_ids, points.tolist(), heights.tolist(), strict=True):
            if tid in self._seen:
                continue
            for lost_id, seen in lost.items():
                px, py = seen.predicted(now_s)
                distance = float(np.hypot(point[0] - px, point[1] - py))
                if distance <= self._radius * max(seen.height, float(height)):
                    options.append((distance, tid, lost_id))
        pairs: dict[int, int] = {}
        for _, new_id, lost_id in sorted(options):
            if new_id not in pairs and lost_id not in pairs.values():
                pairs[new_id] = lost_id
        return pairs

    def _remember(self, tid: int, point: XY, height: float, now_s: float) -> None:
        seen = self._seen.get(tid)
        if seen is None:
            seen = self._seen[tid] = _Seen(point, now_s, height)
        seen.point, seen.seen_s, seen.height = point, now_s, height
        seen.history.append((now_s, point))
        while seen.history and now_s - seen.history[0][0] > VELOCITY_SPAN_S + TIME_EPSILON_S:
            seen.history.popleft()
