"""Crowding: too many tracked objects inside a zone for too long."""

from collections.abc import Sequence
from typing import Literal

import numpy as np
import supervision as sv
from pydantic import Field

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules.base import (
    NO_TRACK,
    TIME_EPSILON_S,
    PolygonRuleConfig,
    RuleHit,
    StreamClock,
    eligible,
    polygon_zone,
)


class CrowdingConfig(PolygonRuleConfig):
    """Fire once when at least ``min_count`` tracked objects stay in the zone for ``min_duration_s``."""

    type: Literal["crowding"] = Field(description="Rule selector: crowding.")
    min_count: int = Field(ge=1, description="Objects in the zone at once that make a crowd.")
    min_duration_s: float = Field(default=5.0, ge=0.0, description="Seconds the crowd must persist.")
    exit_grace_s: float = Field(
        default=1.0,
        ge=0.0,
        description="Seconds the count may stay below min_count before the rule re-arms.",
    )

    def build(self) -> "CrowdingRule":
        """The rule this config describes."""
        return crowding_rule(self)


class CrowdingRule:
    """Fires once when ``count >= min_count`` has held for ``min_duration_s``.

    The rule re-arms once the count has stayed below ``min_count`` for longer than ``exit_grace_s``.
    Its hit belongs to no single track (``tracker_id`` is ``NO_TRACK``): ``detection_index`` is the
    counted detection with the lowest tracker id and ``box`` encloses every counted detection.
    """

    def __init__(
        self,
        *,
        name: str,
        polygon: Sequence[tuple[float, float]],
        min_count: int,
        min_duration_s: float,
        exit_grace_s: float,
        classes: Sequence[ObjectClass] | None,
        min_confidence: float = 0.0,
        min_box_px: float = 0.0,
    ) -> None:
        self._min_confidence = min_confidence
        self._min_box_px = min_box_px
        self._name = name
        self._zone = polygon_zone(polygon)
        self._min_count = min_count
        self._min_duration_s = min_duration_s
        self._exit_grace_s = exit_grace_s
        self._classes = None if classes is None else tuple(classes)
        self._since_s: float | None = None
        self._last_crowded_s: float | None = None
        self._fired = False
        self._clock = StreamClock()

    @property
    def name(self) -> str:
        """The configured rule name."""
        return self._name

    @property
    def kind(self) -> RuleKind:
        """Always crowding."""
        return RuleKind.CROWDING

    def reset(self) -> None:
        """Forget the current crowd, if any."""
        self._since_s = None
        self._last_crowded_s = None
        self._fired = False

    def update(self, detections: sv.Detections, now_s: float) -> list[RuleHit]:
        """Count this frame's tracked detections in the zone; return a hit when a crowd has persisted."""
        if self._clock.went_back(now_s):
            self.reset()
        wanted, tracker_ids = eligible(
            detections,
            self._classes,
            self._name,
            min_confidence=self._min_confidence,
            min_box_px=self._min_box_px,
        )
        inside = self._zone.trigger(detections) & wanted if len(detections) > 0 else wanted
        count = int(np.count_nonzero(inside))
        if count < self._min_count:
            if (
                self._last_crowded_s is not None
                and now_s - self._last_crowded_s > self._exit_grace_s + TIME_EPSILON_S
            ):
                self._since_s, self._last_crowded_s, self._fired = None, None, False
            return []
        if self._since_s is None:
            self._since_s = now_s
        self._last_crowded_s = now_s
        duration = now_s - self._since_s
        if self._fired or duration + TIME_EPSILON_S < self._min_duration_s:
            return []
        self._fired = True
        counted = np.flatnonzero(inside)
        representative = int(counted[np.argmin(tracker_ids[counted])])
        boxes = detections.xyxy[counted]
        box = (
            float(boxes[:, 0].min()),
            float(boxes[:, 1].min()),
            float(boxes[:, 2].max()),
            float(boxes[:, 3].max()),
        )
        return [
            RuleHit(
                rule_name=self._name,
                rule=RuleKind.CROWDING,
                tracker_id=NO_TRACK,
                detection_index=representative,
                now_s=now_s,
                first_seen_s=self._since_s,
                dwell_s=max(duration, 0.0),
                count=count,
                box=box,
            )
        ]


def crowding_rule(config: CrowdingConfig) -> CrowdingRule:
    """Build a crowding rule."""
    return CrowdingRule(
        name=config.name,
        polygon=config.polygon,
        min_count=config.min_count,
        min_duration_s=config.min_duration_s,
        exit_grace_s=config.exit_grace_s,
        classes=config.classes,
        min_confidence=config.min_confidence,
        min_box_px=config.min_box_px,
    )
