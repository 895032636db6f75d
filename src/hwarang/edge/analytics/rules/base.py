"""What every rule shares: the hit it reports, its protocol, and detection helpers."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import supervision as sv

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.errors import AnalyticsError

TIME_EPSILON_S = 1e-9
"""Slack for comparing times built from float frame timestamps (0.1 * 5 may be 0.49999...)."""

NO_TRACK = -1
"""``RuleHit.tracker_id`` of a hit that belongs to no single track (crowding)."""


class StreamClock:
    """The stream time a rule last saw; tells when time went backwards (a restarted or looped stream)."""

    def __init__(self) -> None:
        self._last_s: float | None = None

    def went_back(self, now_s: float) -> bool:
        """Record ``now_s``; True when it is earlier than the previous time (the rule should reset)."""
        back = self._last_s is not None and now_s < self._last_s
        self._last_s = now_s
        return back


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule fired on one detection of the frame just processed.

    ``first_seen_s`` is when the behaviour began (entry into the zone, the crossing itself, the first
    moment of the crowd); with ``rule_name`` and ``tracker_id`` it identifies the event. ``box``
    overrides the detection's box when the hit spans several detections (crowding).
    """

    rule_name: str
    rule: RuleKind
    tracker_id: int
    detection_index: int
    now_s: float
    first_seen_s: float
    direction: str | None = None
    dwell_s: float | None = None
    count: int | None = None
    box: tuple[float, float, float, float] | None = None


class Rule(Protocol):
    """A deterministic rule over tracked detections; time comes in as an argument."""

    @property
    def name(self) -> str:
        """The configured rule name."""
        ...

    @property
    def kind(self) -> RuleKind:
        """Which kind of rule this is."""
        ...

    def update(self, detections: sv.Detections, now_s: float) -> list[RuleHit]:
        """Feed one frame's tracked detections at stream time ``now_s``; return the hits it causes."""
        ...

    def reset(self) -> None:
        """Forget all state (e.g. when the stream restarts)."""
        ...


def eligible(
    detections: sv.Detections,
    classes: Sequence[ObjectClass] | None,
    rule_name: str,
    *,
    min_confidence: float = 0.0,
    min_box_px: float = 0.0,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int_]]:
    """Which detections a rule considers, and every detection's tracker id.

    A rule considers confirmed tracks (``tracker_id >= 0``) of the wanted classes, at least
    ``min_confidence`` (detections without confidence pass) and with width and height at least
    ``min_box_px``; detections without ``class_id`` count as unknown. Raises ``AnalyticsError``
    naming the rule when non-empty detections carry no ``tracker_id``.
    """
    if len(detections) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=int)
    if detections.tracker_id is None:
        raise AnalyticsError(f"rule {rule_name!r}: detections have no tracker_id; run the tracker first")
    tracker_ids: npt.NDArray[np.int_] = np.asarray(detections.tracker_id, dtype=int)
    mask: npt.NDArray[np.bool_] = tracker_ids >= 0
    if classes is not None:
        class_id = (
            np.full(len(detections), CLASS_INDEX[ObjectClass.UNKNOWN])
            if detections.class_id is None
            else np.asarray(detections.class_id)
        )
        mask &= np.isin(class_id, [CLASS_INDEX[c] for c in classes])
    if min_confidence > 0 and detections.confidence is not None:
        mask &= np.asarray(detections.confidence) >= min_confidence
    if min_box_px > 0:
        xyxy = np.asarray(detections.xyxy)
        mask &= np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]) >= min_box_px
    return mask, tracker_ids


def anchors(detections: sv.Detections) -> npt.NDArray[np.float64]:
    """Bottom-centre (ground contact) point of each box, ``(N, 2)``."""
    points: npt.NDArray[np.float64] = np.asarray(
        detections.get_anchors_coordinates(sv.Position.BOTTOM_CENTER), dtype=np.float64
    )
    return points


def polygon_zone(polygon: Sequence[tuple[float, float]]) -> sv.PolygonZone:
    """A supervision zone that tests box anchors (bottom centre) against ``polygon``."""
    vertices = np.rint(np.asarray(polygon, dtype=np.float64)).astype(np.int64)
    return sv.PolygonZone(vertices, triggering_anchors=(sv.Position.BOTTOM_CENTER,))
