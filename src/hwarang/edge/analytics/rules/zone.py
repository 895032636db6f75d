"""Zone rules: intrusion and loitering, both "a track stayed inside a polygon long enough"."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import supervision as sv
from pydantic import Field

from hwarang.domain import ObjectClass, RuleKind
from hwarang.edge.analytics.rules.base import (
    TIME_EPSILON_S,
    PolygonRuleConfig,
    ReacquireSettings,
    RuleHit,
    StreamClock,
    anchors,
    eligible,
    polygon_zone,
)
from hwarang.edge.analytics.rules.reacquire import Reacquisition


class ZoneIntrusionConfig(PolygonRuleConfig, ReacquireSettings):
    """Fire once per stay when a tracked object has been inside the zone for ``min_dwell_s``."""

    type: Literal["zone_intrusion"] = Field(description="Rule selector: zone intrusion.")
    min_dwell_s: float = Field(default=0.5, ge=0.0, description="Seconds inside before the rule fires.")
    exit_grace_s: float = Field(
        default=1.0,
        ge=0.0,
        description="Seconds a track may be missing from the zone and still count as the same stay.",
    )

    def build(self) -> "DwellRule":
        """The rule this config describes."""
        return zone_intrusion_rule(self)


class LoiteringConfig(PolygonRuleConfig, ReacquireSettings):
    """Fire once per stay when a tracked object has stayed inside the zone for ``dwell_s``."""

    type: Literal["loitering"] = Field(description="Rule selector: loitering.")
    dwell_s: float = Field(default=20.0, gt=0.0, description="Seconds inside before the rule fires.")
    exit_grace_s: float = Field(
        default=2.0,
        ge=0.0,
        description="Seconds a track may be missing from the zone and still count as the same stay.",
    )

    def build(self) -> "DwellRule":
        """The rule this config describes."""
        return loitering_rule(self)


@dataclass(slots=True)
class _Stay:
    entered_s: float
    last_inside_s: float
    last_seen_s: float
    fired: bool = False


class DwellRule:
    """Fires once per stay when a track has been inside the polygon for ``dwell_s`` seconds.

    A stay begins when a track's anchor is first inside and ends when the anchor has been outside or
    missing for longer than ``exit_grace_s``; the next entry starts a new stay that may fire again.
    A track lost while inside (not seen anywhere since) keeps its stay for ``reacquire_s`` when that is
    longer, and a new track appearing near where it was lost takes the stay over (``Reacquisition``),
    so a person re-acquired under a new id does not raise a second alarm.
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
        reacquire_s: float = 0.0,
        reacquire_radius: float = 1.0,
    ) -> None:
        self._reacquire_s = reacquire_s
        self._reacquisition = Reacquisition(window_s=reacquire_s, radius=reacquire_radius)
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
        self._reacquisition.reset()

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
            self._follow(detections, wanted, tracker_ids, now_s)
            inside = self._zone.trigger(detections) & wanted
            for index in np.flatnonzero(inside):
                hit = self._advance(int(tracker_ids[index]), int(index), now_s)
                if hit is not None:
                    hits.append(hit)
        self._stays = {tid: stay for tid, stay in self._stays.items() if self._lasts(stay, now_s)}
        return hits

    def _follow(
        self,
        detections: sv.Detections,
        wanted: npt.NDArray[np.bool_],
        tracker_ids: npt.NDArray[np.int_],
        now_s: float,
    ) -> None:
        """Hand re-acquired tracks' stays to their new ids; end or mark the stays of tracks seen now."""
        chosen = np.flatnonzero(wanted)
        ids = [int(tid) for tid in tracker_ids[chosen]]
        heights = np.asarray(detections.xyxy[chosen, 3] - detections.xyxy[chosen, 1], dtype=np.float64)
        handover = self._reacquisition.observe(ids, anchors(detections)[chosen], heights, now_s)
        for new_id, lost_id in handover.items():
            stay = self._stays.pop(lost_id, None)
            if stay is not None and new_id not in self._stays:
                self._stays[new_id] = stay
        for tid in ids:
            stay = self._stays.get(tid)
            if stay is not None and not self._lasts(stay, now_s):
                del self._stays[tid]
            elif stay is not None:
                stay.last_seen_s = now_s

    def _lasts(self, stay: _Stay, now_s: float) -> bool:
        """A stay lasts through ``exit_grace_s`` outside, or ``reacquire_s`` lost while inside."""
        away = now_s - stay.last_inside_s
        lost_inside = stay.last_seen_s <= stay.last_inside_s
        limit = max(self._exit_grace_s, self._reacquire_s) if lost_inside else self._exit_grace_s
        return away <= limit + TIME_EPSILON_S

    def _advance(self, tracker_id: int, index: int, now_s: float) -> RuleHit | None:
        stay = self._stays.get(tracker_id)
        if stay is None:  # ``_follow`` has already ended the stays that did not last
            stay = _Stay(entered_s=now_s, last_inside_s=now_s, last_seen_s=now_s)
            self._stays[tracker_id] = stay
        stay.last_inside_s = stay.last_seen_s = now_s
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
        reacquire_s=config.reacquire_s,
        reacquire_radius=config.reacquire_radius,
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
        reacquire_s=config.reacquire_s,
        reacquire_radius=config.reacquire_radius,
    )
