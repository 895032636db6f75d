"""Per-camera analytics: detector -> tracker -> rules -> events with snapshots."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt
import supervision as sv

from hwarang.domain import (
    BoundingBox,
    Camera,
    DetectorInfo,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    SnapshotRef,
    stable_event_id,
)
from hwarang.edge.analytics.classes import OBJECT_CLASSES
from hwarang.edge.analytics.detectors import Detector, describe_detector
from hwarang.edge.analytics.rules import Rule, RuleHit
from hwarang.edge.analytics.tracking import ObjectTracker
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame

STAGES = ("detect", "track", "rules", "events")
"""Pipeline stages whose time ``AnalyticsStats`` measures."""


class SnapshotRenderer(Protocol):
    """Draws ``box`` and ``label`` on a copy of ``image``; returns the JPEG bytes and their reference.

    ``hwarang.edge.media.snapshots.render_snapshot`` is the production implementation.
    """

    def __call__(
        self, image: npt.NDArray[np.uint8], box: BoundingBox, label: str
    ) -> tuple[bytes, SnapshotRef]: ...


Projector = Callable[[float, float], GeoPoint | None]
"""Maps a ground-contact pixel (x, y) to a map position, or ``None`` outside the calibrated area."""


@dataclass(slots=True)
class AnalyticsStats:
    """Counters of one camera's analytics since start.

    ``detections`` and ``tracks`` sum the boxes seen per frame (detector output, confirmed tracks);
    ``resets`` counts stream restarts; ``stage_ms`` holds total milliseconds per stage (see ``mean_ms``).
    """

    frames: int = 0
    detections: int = 0
    tracks: int = 0
    hits: int = 0
    events: int = 0
    resets: int = 0
    stage_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def mean_ms(self) -> dict[str, float]:
        """Mean milliseconds per processed frame for each stage."""
        return {stage: total / self.frames if self.frames else 0.0 for stage, total in self.stage_ms.items()}


def first_seen_wall_time(frame: Frame, hit: RuleHit) -> datetime:
    """Wall-clock time at which the hit's behaviour began, rounded to the millisecond."""
    began = frame.wall_time - timedelta(seconds=hit.now_s - hit.first_seen_s)
    whole_second = began.replace(microsecond=0)
    return whole_second + timedelta(milliseconds=round(began.microsecond / 1000))


class CameraAnalytics:
    """Runs one camera's detector, tracker and rules on each frame and turns rule hits into events.

    Stream time (``frame.pts_s``) drives the tracker and rules; a time going backwards (a looped file)
    resets them. Nothing broad is caught here: the edge node's loop handles failures.
    """

    def __init__(
        self,
        camera: Camera,
        detector: Detector,
        tracker: ObjectTracker,
        rules: Sequence[Rule],
        *,
        snapshot: SnapshotRenderer,
        project: Projector | None = None,
    ) -> None:
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise AnalyticsError(f"camera {camera.id!r}: rule names must be unique, repeated: {duplicates}")
        self.camera = camera
        self._detector = detector
        self._detector_info: DetectorInfo | None = describe_detector(detector)
        self._tracker = tracker
        self._rules = tuple(rules)
        self._snapshot = snapshot
        self._project = project
        self._stats = AnalyticsStats()
        self._last_pts_s: float | None = None

    @property
    def detector(self) -> Detector:
        """The detector this pipeline runs (its counters feed camera health)."""
        return self._detector

    @property
    def stats(self) -> AnalyticsStats:
        """A copy of the counters, safe to keep."""
        return replace(self._stats, stage_ms=dict(self._stats.stage_ms))

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules run on each frame."""
        return self._rules

    def replace_rules(self, rules: Sequence[Rule]) -> None:
        """Run ``rules`` from the next frame on (one reference swap: a frame in progress keeps the old)."""
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise AnalyticsError(f"camera {self.camera.id!r}: rule names must be unique")
        self._rules = tuple(rules)

    def reset(self) -> None:
        """Forget tracks and rule state (the detector keeps its background model)."""
        self._tracker.reset()
        for rule in self._rules:
            rule.reset()
        self._last_pts_s = None
        self._stats.resets += 1

    def process(self, frame: Frame) -> list[EventMessage]:
        """Analyse one frame; return an event message (with snapshot) per rule hit."""
        if frame.wall_time.tzinfo is None:
            raise AnalyticsError(f"camera {self.camera.id!r}: frame {frame.index} has a naive wall_time")
        if self._last_pts_s is not None and frame.pts_s < self._last_pts_s:
            self.reset()
        self._last_pts_s = frame.pts_s
        stage_ms = self._stats.stage_ms

        started = time.perf_counter()
        detections = self._detector.detect(frame)
        detected = time.perf_counter()
        tracked = self._tracker.update(detections, frame.pts_s)
        track_done = time.perf_counter()
        rules = self._rules  # read once: a swap between frames takes effect at the next frame
        hits = [hit for rule in rules for hit in rule.update(tracked, frame.pts_s)]
        rules_done = time.perf_counter()
        messages = [self._message(frame, tracked, hit) for hit in hits]
        finished = time.perf_counter()

        stage_ms["detect"] += (detected - started) * 1000.0
        stage_ms["track"] += (track_done - detected) * 1000.0
        stage_ms["rules"] += (rules_done - track_done) * 1000.0
        stage_ms["events"] += (finished - rules_done) * 1000.0
        self._stats.frames += 1
        self._stats.detections += len(detections)
        self._stats.tracks += len(tracked)
        self._stats.hits += len(hits)
        self._stats.events += len(messages)
        return messages

    def _message(self, frame: Frame, tracked: sv.Detections, hit: RuleHit) -> EventMessage:
        index = hit.detection_index
        if not 0 <= index < len(tracked):
            raise AnalyticsError(
                f"camera {self.camera.id!r}: rule {hit.rule_name!r} hit detection {index} "
                f"of {len(tracked)} in frame {frame.index}"
            )
        x1, y1, x2, y2 = hit.box if hit.box is not None else (float(v) for v in tracked.xyxy[index])
        box = BoundingBox(x1=x1, y1=y1, x2=max(x2, x1), y2=max(y2, y1))
        object_class = _object_class(tracked, index)
        confidence = (
            0.0 if tracked.confidence is None else float(np.clip(tracked.confidence[index], 0.0, 1.0))
        )
        geo = None if self._project is None else self._project(*box.bottom_center)
        label = f"{hit.rule_name}: {object_class.value} #{hit.tracker_id}"
        jpeg, ref = self._snapshot(frame.image, box, label)
        event = Event(
            id=stable_event_id(
                self.camera.id, hit.rule_name, hit.tracker_id, first_seen_wall_time(frame, hit)
            ),
            camera_id=self.camera.id,
            center_id=self.camera.center_id,
            sido_code=self.camera.sido_code,
            sigungu_code=self.camera.sigungu_code,
            occurred_at=frame.wall_time,
            object_class=object_class,
            confidence=confidence,
            box=box,
            track_id=hit.tracker_id,
            rule=hit.rule,
            rule_name=hit.rule_name,
            direction=hit.direction,
            dwell_s=hit.dwell_s,
            geo=geo,
            snapshot=ref,
            frame_index=frame.index,
            detector=self._detector_info,
        )
        return EventMessage(event=event, snapshot_jpeg=jpeg)


def _object_class(detections: sv.Detections, index: int) -> ObjectClass:
    if detections.class_id is None:
        return ObjectClass.UNKNOWN
    class_id = int(detections.class_id[index])
    if not 0 <= class_id < len(OBJECT_CLASSES):
        raise AnalyticsError(
            f"class_id {class_id} is outside the Hwarang classes (0..{len(OBJECT_CLASSES) - 1})"
        )
    return OBJECT_CLASSES[class_id]
