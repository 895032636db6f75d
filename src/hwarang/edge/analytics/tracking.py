"""Multi-object tracking: ByteTrack (roboflow ``trackers``) behind a small, configured wrapper."""

import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field
from trackers import ByteTrackTracker

from hwarang.edge.errors import AnalyticsError

_TRACKERS_REFERENCE_FPS = 30.0  # ``trackers`` counts its lost-track buffer in 30 FPS frames.


class TrackerConfig(BaseModel):
    """ByteTrack settings; the defaults suit motion-detector boxes, whose confidence is low (0.3..0.8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lost_track_buffer_s: float = Field(
        default=1.0, ge=0.0, description="Seconds a track survives without a matching detection."
    )
    track_activation_threshold: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Smallest detection confidence that may start a new track."
    )
    minimum_consecutive_frames: int = Field(
        default=3,
        ge=1,
        description="Matched frames before a track is reported (ByteTrack: from the 2nd at the earliest).",
    )
    minimum_iou_threshold: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Smallest IoU between a track and a detection to associate them.",
    )
    high_conf_det_threshold: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="Detections at or above this confidence match first; lower ones only extend tracks.",
    )


class ObjectTracker:
    """Assigns stable ``tracker_id`` values to detections and reports confirmed tracks only."""

    def __init__(self, config: TrackerConfig, fps: float) -> None:
        if not np.isfinite(fps) or fps <= 0:
            raise AnalyticsError(f"tracker: fps must be a positive number, got {fps}")
        self.config = config
        self.fps = fps
        self._tracker = ByteTrackTracker(
            lost_track_buffer=round(config.lost_track_buffer_s * _TRACKERS_REFERENCE_FPS),
            frame_rate=fps,
            track_activation_threshold=config.track_activation_threshold,
            minimum_consecutive_frames=config.minimum_consecutive_frames,
            minimum_iou_threshold=config.minimum_iou_threshold,
            high_conf_det_threshold=config.high_conf_det_threshold,
        )
        self._last_time_s: float | None = None

    def update(self, detections: sv.Detections, now_s: float | None = None) -> sv.Detections:
        """Track ``detections`` at stream time ``now_s`` (seconds; ``None`` = one frame after the last).

        Returns only detections of confirmed tracks, each with a ``tracker_id`` >= 0; the caller's
        detections are not modified. A time going backwards (a looped file) resets the tracker first.
        """
        if now_s is not None and self._last_time_s is not None and now_s < self._last_time_s:
            self.reset()
        self._last_time_s = now_s
        tracked = self._tracker.update(detections, timestamp=now_s)
        if len(tracked) == 0 or tracked.tracker_id is None:
            return _empty_tracked()
        confirmed = tracked[np.asarray(tracked.tracker_id) >= 0]
        if not isinstance(confirmed, sv.Detections):
            raise AnalyticsError(f"tracker: expected Detections from a boolean index, got {type(confirmed)}")
        return confirmed

    def reset(self) -> None:
        """Forget every track and restart ids from zero."""
        self._tracker.reset()
        self._last_time_s = None


def _empty_tracked() -> sv.Detections:
    return sv.Detections(
        xyxy=np.zeros((0, 4), dtype=np.float32),
        confidence=np.zeros(0, dtype=np.float32),
        class_id=np.zeros(0, dtype=int),
        tracker_id=np.zeros(0, dtype=int),
    )
