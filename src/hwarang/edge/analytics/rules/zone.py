"""Zone rules: intrusion and loitering, both "a track stayed inside a polygon long enough"."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import supervision as sv

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules.base import TIME_EPSILON_S, RuleHit, StreamClock, eligible, polygon_zone
from hwarang.edge.analytics.rules.config import LoiteringConfig, ZoneIntrusionConfig


@dataclass(slots=True)
class _Stay:
    entered_s: float
    last_inside_s: float
    fired: bool = False


class DwellRule:
    """Fires once per stay when a track has been inside the polygon for ``dwell_s`` seconds.

    A stay begins when a track's anchor is first inside and ends when the anchor has been outside or
    missing for longer than ``exit_grace_s``; the next entry starts a new stay that may fire again.
    """

    def __init__(
        self,
        *,
        name: str,
        kind: RuleKind,
        polygon: Sequence[tuple[float, float]],
        dwell_s: float,
        exit_grace_s: float,
        classes: Sequence[ObjectClass] | None,
        min_confidence: float = 0.0,
        min_box_px: float = 0.0,
    ) -> None:
        self._min_confidence = min_confidence
        self._min_box_px = min_box_px
        self._name = name
        self._kind = kind
        self._zone = polygon_zone(polygon)
        self._dwell_s = dwell_s
        self._exit_grace_s = exit_grace_s
        self._classes = None if classes is None else tuple(classes)
        self._stays: dict[int, _Stay] = {}
        self._clock = StreamClock()

    @property
    def name(self) -> str:
        """The configured rule name."""
        return self._name

    @property
    def kind(self) -> RuleKind:
        """Zone intrusion or loitering."""
        return self._kind

    @property
    def tracks_in_memory(self) -> int:
        """Tracks whose stay the rule remembers (bounded: finished stays are dropped)."""
        return len(self._stays)

    def reset(self) -> None:
        """Forget every stay."""
        self._stays.clear()

    def update(self, detections: sv.Detections, now_s: float) -> list[RuleHit]:
        """Advance stays with this frame's tracked detections; return hits for stays reaching the dwell."""
        if self._clock.went_back(now_s):
            self.reset()
        wanted, tracker_ids = eligible(
            detections,
            self._classes,
            self._name,
            min_confidence=self._min_confidence,
            min_box_px=self._min_box_px,
        )
        hits: list[RuleHit] = []
        if len(detections) > 0:
            inside = self._zone.trigger(detections) & wanted
            for index in np.flatnonzero(inside):
                hit = self._advance(int(tracker_ids[index]), int(index), now_s)
                if hit is not None:
                    hits.append(hit)
        self._stays = {
            tid: stay
            for tid, stay in self._stays.items()
            if now_s - stay.last_inside_s <= self._exit_grace_s + TIME_EPSILON_S
        }
        return hits

    def _advance(self, tracker_id: int, index: int, now_s: float) -> RuleHit | None:
        stay = self._stays.get(tracker_id)
        if stay is None or now_s - stay.last_inside_s > self._exit_grace_s + TIME_EPSILON_S:
            stay = _Stay(entered_s=now_s, last_inside_s=now_s)
            self._stays[tracker_id] = stay
        stay.last_inside_s = now_s
        dwell = now_s - stay.entered_s
        if stay.fired or dwell + TIME_EPSILON_S < self._dwell_s:
            return None
        stay.fired = True
        return RuleHit(
            rule_name=self._name,
            rule=self._kind,
            tracker_id=tracker_id,
            detection_index=index,
            now_s=now_s,
            first_seen_s=stay.entered_s,
            dwell_s=max(dwell, 0.0),
        )


def zone_intrusion_rule(config: ZoneIntrusionConfig) -> DwellRule:
    """Build a zone-intrusion rule."""
    return DwellRule(
        name=config.name,
        kind=RuleKind.ZONE_INTRUSION,
        polygon=config.polygon,
        dwell_s=config.min_dwell_s,
        exit_grace_s=config.exit_grace_s,
        classes=config.classes,
        min_confidence=config.min_confidence,
        min_box_px=config.min_box_px,
    )


def loitering_rule(config: LoiteringConfig) -> DwellRule:
    """Build a loitering rule."""
    return DwellRule(
        name=config.name,
        kind=RuleKind.LOITERING,
        polygon=config.polygon,
        dwell_s=config.dwell_s,
        exit_grace_s=config.exit_grace_s,
        classes=config.classes,
        min_confidence=config.min_confidence,
        min_box_px=config.min_box_px,
    )
