"""Running a camera's detector and tracker over a clip and scoring it against MOTChallenge truth."""

import time
from contextlib import closing
from pathlib import Path

import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors import DetectorConfig, ModelDetector, build_detector
from hwarang.edge.analytics.detectors.model_config import ModelDetectorConfigBase
from hwarang.edge.analytics.tracking import ObjectTracker, TrackerConfig
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.evaluation.clip_frames import clip_frames
from hwarang.edge.evaluation.metrics import MotEvaluator, load_mot_ground_truth

AP_SCORE_FLOOR = 0.01
"""Model detectors run at this confidence during evaluation so AP50 sees the whole PR curve; the
tracker still gets only detections at the configured ``min_confidence`` (greedy NMS keeps a box
independently of lower-scored ones, so this changes nothing the tracker sees)."""


class MotReport(BaseModel):
    """What ``hwarang eval mot`` prints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(default=1, description="Report format version.")
    video: str = Field(description="Evaluated clip.")
    ground_truth: str = Field(description="MOTChallenge ground-truth file.")
    detector: str = Field(description="Detector plugin type.")
    gating: str = Field(description="Gating mode of a model detector ('none' for motion).")
    frames: int = Field(description="Frames evaluated.")
    ap50: float = Field(description="Person detection average precision at IoU 0.5.")
    precision: float = Field(description="Person detection precision at the operating threshold.")
    recall: float = Field(description="Person detection recall at the operating threshold.")
    operating_threshold: float = Field(description="Detector confidence that feeds the tracker.")
    mota: float = Field(description="Multiple-object tracking accuracy.")
    idf1: float = Field(description="Identity F1 score.")
    id_switches: int = Field(description="Identity switches.")
    fps: float = Field(description="Frames per second (decode + detect + track).")
    detect_ms_per_frame: float = Field(description="Mean detector milliseconds per frame.")
    detector_stats: dict[str, float] = Field(description="Detector counters (inferences, skipped frames).")


def _ap_config(config: DetectorConfig) -> tuple[DetectorConfig, float]:
    if isinstance(config, ModelDetectorConfigBase):
        floor = min(AP_SCORE_FLOOR, config.min_confidence)
        # A score of the motion-only fallback would be mistaken for the model's: refuse instead.
        update = {"min_confidence": floor, "fallback": "error"}
        return config.model_copy(update=update), config.min_confidence
    return config, 0.0


def evaluate_mot(
    video: Path,
    ground_truth: Path,
    detector_config: DetectorConfig,
    tracker_config: TrackerConfig,
    *,
    max_frames: int | None = None,
) -> MotReport:
    """Run detector + tracker on every frame of ``video``; score persons against ``ground_truth``.

    Ground-truth frame numbers are the video frame index + 1 (MOTChallenge).
    """
    truth = load_mot_ground_truth(ground_truth)
    ap_config, threshold = _ap_config(detector_config)
    detector = build_detector(ap_config)
    evaluator = MotEvaluator(operating_threshold=threshold)
    person = CLASS_INDEX[ObjectClass.PERSON]
    tracker: ObjectTracker | None = None
    detect_ms = 0.0
    started = time.perf_counter()
    with closing(clip_frames(video, camera_id="eval", max_frames=max_frames)) as clip:
        for frame, fps in clip:
            tracker = tracker or ObjectTracker(tracker_config, fps=fps)
            before = time.perf_counter()
            detections = detector.detect(frame)
            detect_ms += (time.perf_counter() - before) * 1000.0
            confidence = (
                np.ones(len(detections), dtype=np.float32)
                if detections.confidence is None
                else detections.confidence.astype(np.float32)
            )
            operating = detections[confidence >= threshold]
            if not isinstance(operating, sv.Detections):
                raise AnalyticsError(f"evaluation: unexpected {type(operating)} from a boolean index")
            tracked = tracker.update(operating, frame.pts_s)
            people = np.asarray(detections.class_id) == person
            tracked_people = np.asarray(tracked.class_id) == person
            evaluator.add_frame(
                truth.get(frame.index + 1),
                detections.xyxy[people].astype(np.float32),
                confidence[people],
                np.asarray(tracked.tracker_id)[tracked_people].astype(int),
                tracked.xyxy[tracked_people].astype(np.float32),
            )
    seconds = time.perf_counter() - started
    metrics = evaluator.compute()
    stats = detector.stats.as_dict() if isinstance(detector, ModelDetector) else {}
    gating = ap_config.gating.mode if isinstance(ap_config, ModelDetectorConfigBase) else "none"
    return MotReport(
        video=str(video),
        ground_truth=str(ground_truth),
        detector=detector_config.type,
        gating=gating,
        frames=metrics.frames,
        ap50=round(metrics.ap50, 4),
        precision=round(metrics.precision, 4),
        recall=round(metrics.recall, 4),
        operating_threshold=threshold,
        mota=round(metrics.mota, 4),
        idf1=round(metrics.idf1, 4),
        id_switches=metrics.id_switches,
        fps=round(metrics.frames / seconds, 2) if seconds > 0 else 0.0,
        detect_ms_per_frame=round(detect_ms / metrics.frames, 2),
        detector_stats=stats,
    )
