"""Running a camera's whole pipeline (detector, tracker, rules) over a clip and scoring its alarms."""

import time
from contextlib import closing
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hwarang.domain import Camera
from hwarang.edge.camera_setup import build_analytics
from hwarang.edge.config import CameraConfig
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.evaluation.alarms import (
    DEFAULT_MIN_IOU,
    DEFAULT_TOLERANCE_S,
    AlarmEvaluator,
    AlarmSpec,
    RaisedAlarm,
    alarm_spec,
)
from hwarang.edge.evaluation.clip_frames import clip_frames
from hwarang.edge.evaluation.metrics import load_mot_ground_truth


class RuleAlarmReport(BaseModel):
    """One rule's alarms against the ground truth (rates are null when their denominator is zero)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(description="'zone' (intrusion, loitering) or 'line' (line crossing).")
    expected: int = Field(
        description="Alarms the ground truth calls for (stays reaching the dwell, crossings)."
    )
    raised: int = Field(description="Alarms the pipeline raised.")
    matched: int = Field(description="Raised alarms that matched an expected one (each at most once).")
    duplicates: int = Field(description="Further alarms for a stay or crossing already matched.")
    false_alarms: int = Field(
        description="Raised alarms matching no expected alarm of the person they overlap."
    )
    recall: float | None = Field(description="matched / expected.")
    precision: float | None = Field(description="matched / raised (duplicates count against it).")


class AlarmReport(BaseModel):
    """What ``hwarang eval alarms`` prints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(default=1, description="Report format version.")
    video: str = Field(description="Evaluated clip.")
    ground_truth: str = Field(description="MOTChallenge ground-truth file.")
    camera: str = Field(description="Camera whose pipeline ran.")
    detector: str = Field(description="Detector plugin type.")
    frames: int = Field(description="Frames evaluated.")
    tolerance_s: float = Field(description="Matching window around each expected alarm, in seconds.")
    min_iou: float = Field(description="Smallest IoU between an alarm's box and a ground-truth person.")
    fps: float = Field(description="Frames per second of the whole run.")
    rules: dict[str, RuleAlarmReport] = Field(description="Scores by rule name.")
    skipped_rules: list[str] = Field(description="Rules with no per-person alarm (crowding), not scored.")


def evaluate_alarms(
    video: Path,
    ground_truth: Path,
    camera: Camera,
    config: CameraConfig,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    min_iou: float = DEFAULT_MIN_IOU,
    max_frames: int | None = None,
) -> AlarmReport:
    """Run ``config``'s pipeline on every frame of ``video``; score its alarms against ``ground_truth``.

    Ground-truth frame numbers are the video frame index + 1 (MOTChallenge). Every decoded frame is
    analysed (``analysis_fps`` is not applied), on the clip's own stream time.
    """
    truth = load_mot_ground_truth(ground_truth)
    specs: list[AlarmSpec] = []
    skipped: list[str] = []
    for rule in config.rules:
        spec = alarm_spec(rule)
        if spec is None:
            skipped.append(rule.name)
        else:
            specs.append(spec)
    if not specs:
        raise AnalyticsError(f"camera {config.id!r} has no zone or line rule to evaluate")
    evaluator = AlarmEvaluator(specs, tolerance_s=tolerance_s, min_iou=min_iou)
    analytics = None
    frames = 0
    started = time.perf_counter()
    with closing(clip_frames(video, camera_id=camera.id, max_frames=max_frames)) as clip:
        for frame, fps in clip:
            if analytics is None:
                analytics = build_analytics(camera, config, fps, (frame.width, frame.height))
            alarms = [
                RaisedAlarm(
                    rule_name=message.event.rule_name,
                    frame_index=frame.index,
                    box=(
                        message.event.box.x1,
                        message.event.box.y1,
                        message.event.box.x2,
                        message.event.box.y2,
                    ),
                    direction=message.event.direction,
                    track_id=message.event.track_id,
                )
                for message in analytics.process(frame)
                if message.event.rule_name not in skipped
            ]
            evaluator.add_frame(frame.index, frame.pts_s, truth.get(frame.index + 1), alarms)
            frames += 1
    if frames == 0:
        raise AnalyticsError(f"alarm evaluation: no frames decoded from {video}")
    seconds = time.perf_counter() - started
    scores = evaluator.compute()
    return AlarmReport(
        video=str(video),
        ground_truth=str(ground_truth),
        camera=camera.id,
        detector=config.detector.type,
        frames=frames,
        tolerance_s=tolerance_s,
        min_iou=min_iou,
        fps=round(frames / seconds, 2) if seconds > 0 else 0.0,
        rules={
            score.rule_name: RuleAlarmReport(
                kind=score.kind,
                expected=score.expected,
                raised=score.raised,
                matched=score.matched,
                duplicates=score.duplicates,
                false_alarms=score.false_alarms,
                recall=None if score.recall is None else round(score.recall, 4),
                precision=None if score.precision is None else round(score.precision, 4),
            )
            for score in scores
        },
        skipped_rules=skipped,
    )
