"""What every rule shares: the hit it reports, its protocol, its config scaffolding and detection helpers.

Coordinates are pixels of the full-resolution frame, (x, y) with y growing downwards. Every rule tests
the anchor point of a box: its bottom centre, where the object touches the ground.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, model_validator
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from hwarang.domain import ObjectClass, RuleKind
from hwarang.domain.text import StoreText
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.errors import AnalyticsError

TIME_EPSILON_S = 1e-9
"""Slack for comparing times built from float frame timestamps (0.1 * 5 may be 0.49999...)."""

NO_TRACK = -1
"""``RuleHit.tracker_id`` of a hit that belongs to no single track (crowding)."""

Point = tuple[FiniteFloat, FiniteFloat]
MIN_POLYGON_AREA_PX = 1.0
MIN_LINE_LENGTH_PX = 1.0
MAX_POLYGON_POINTS = 256
"""Most points of one zone outline (a drawn zone needs far fewer; bounds the work per frame)."""


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


class RuleConfigBase(BaseModel, ABC):
    """Fields every rule has (name, classes, filters); a rule plugin's config adds ``type`` and ``build``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StoreText = Field(
        min_length=1,
        max_length=64,
        description="Rule name, unique per camera; appears in events (one line, no control characters).",
    )
    classes: list[ObjectClass] | None = Field(
        default=None, description="Object classes the rule applies to; None means all classes."
    )
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Tracked detections below this confidence are ignored."
    )
    min_box_px: float = Field(
        default=0.0,
        ge=0.0,
        description="Tracked boxes whose width or height is below this (pixels) are ignored.",
    )

    @abstractmethod
    def build(self) -> Rule:
        """The rule this config describes."""


class ReacquireSettings(BaseModel):
    """Settings of rules that keep per-track state across a track's loss and re-acquisition."""

    reacquire_s: float = Field(
        default=2.0,
        ge=0.0,
        description="Seconds after a track is lost during which a new track appearing near where it was "
        "lost continues it (no second alarm for the same stay; a crossing during the gap still counts); "
        "0 turns this off. A zone stay of a track lost inside the zone is also kept this long.",
    )
    reacquire_radius: float = Field(
        default=1.0,
        gt=0.0,
        description="How far, in box heights, a new track may appear from the lost track's last "
        "position moved on at its last speed.",
    )


class PolygonRuleConfig(RuleConfigBase):
    polygon: list[Point] = Field(
        max_length=MAX_POLYGON_POINTS,
        description="Zone outline as [x, y] pixel points (3 to 256, a simple polygon with area).",
    )

    @model_validator(mode="after")
    def _check_polygon(self) -> "PolygonRuleConfig":
        if len(self.polygon) < 3:
            raise ValueError(f"rule {self.name!r}: polygon needs at least 3 points, got {len(self.polygon)}")
        shape = Polygon(self.polygon)
        if shape.convex_hull.area >= MIN_POLYGON_AREA_PX and not shape.is_valid:
            raise ValueError(f"rule {self.name!r}: polygon is not simple: {explain_validity(shape)}")
        if shape.area < MIN_POLYGON_AREA_PX:
            raise ValueError(
                f"rule {self.name!r}: polygon is degenerate (area {shape.area:.2f} px², "
                f"points {self.polygon})"
            )
        return self


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
