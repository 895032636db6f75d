"""Motion detector plugin: moving blobs from the motion gate, classed by a shape heuristic.

With no trained model, a blob's class comes from its box shape: taller than wide
(``h / w >= 1.2``) is a person, wider than tall (``w / h >= 1.2``) and at least
``vehicle_min_area_px`` is a vehicle, anything else is unknown. Confidence is the fraction of the box
covered by foreground pixels, so ragged or hollow blobs score low.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt
import supervision as sv
from pydantic import ConfigDict, Field

from hwarang.domain import DetectorInfo, ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors.base import DetectorPluginConfig
from hwarang.edge.frame import Frame

PERSON_MIN_ASPECT = 1.2
"""Height / width at or above which a blob is called a person."""
VEHICLE_MIN_ASPECT = 1.2
"""Width / height at or above which a large blob is called a vehicle."""


class MotionDetectorConfig(DetectorPluginConfig):
    """Detect moving objects by background subtraction (no model needed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["motion"] = Field(description="Plugin selector: background-subtraction motion detector.")
    history: int = Field(default=500, ge=1, description="Frames the MOG2 background model remembers.")
    var_threshold: float = Field(
        default=16.0,
        gt=0.0,
        description="MOG2 squared Mahalanobis distance above which a pixel is foreground.",
    )
    detect_shadows: bool = Field(
        default=True, description="Let MOG2 mark shadows separately so that they are not taken for objects."
    )
    min_area_px: float = Field(
        default=200.0, ge=0.0, description="Smallest blob kept, in full-resolution pixels of foreground."
    )
    merge_gap_px: float = Field(
        default=4.0, ge=0.0, description="Blobs whose boxes are at most this many pixels apart are merged."
    )
    downscale: int = Field(
        default=2, ge=1, le=16, description="Background subtraction runs at width and height divided by this."
    )
    warmup_frames: int = Field(
        default=25, ge=0, description="Frames used only to learn the background before reporting motion."
    )
    classify_by_shape: bool = Field(
        default=True, description="Class blobs as person / vehicle by box shape; otherwise all are unknown."
    )
    vehicle_min_area_px: float = Field(
        default=6000.0, ge=0.0, description="Smallest box area, in full-resolution pixels, called a vehicle."
    )

    def build(self) -> "MotionDetector":
        """The detector this config describes (heavy runtimes are imported when built)."""
        return create(self)


def classify_by_shape(boxes: npt.NDArray[np.float32], vehicle_min_area_px: float) -> npt.NDArray[np.int_]:
    """Class ids (``classes.CLASS_INDEX``) for xyxy boxes by the module's shape heuristic."""
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6)
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
    class_id = np.full(len(boxes), CLASS_INDEX[ObjectClass.UNKNOWN], dtype=int)
    wide = (widths / heights >= VEHICLE_MIN_ASPECT) & (widths * heights >= vehicle_min_area_px)
    class_id[wide] = CLASS_INDEX[ObjectClass.VEHICLE]
    class_id[heights / widths >= PERSON_MIN_ASPECT] = CLASS_INDEX[ObjectClass.PERSON]
    return class_id


class MotionDetector:
    """A ``Detector`` over ``MotionGate`` boxes."""

    def __init__(self, config: MotionDetectorConfig) -> None:
        from hwarang.edge.analytics.motion import MotionGate

        self.config = config
        self.info = DetectorInfo(kind="motion", plugin="motion")
        self._gate = MotionGate(
            history=config.history,
            var_threshold=config.var_threshold,
            detect_shadows=config.detect_shadows,
            downscale=config.downscale,
            min_area_px=config.min_area_px,
            merge_gap_px=config.merge_gap_px,
            warmup_frames=config.warmup_frames,
        )
        self.last_motion_ratio = 0.0

    def detect(self, frame: Frame) -> sv.Detections:
        """Moving blobs in ``frame``; none while the background model warms up."""
        result = self._gate.apply(frame.image)
        self.last_motion_ratio = result.motion_ratio
        if len(result.boxes) == 0:
            return sv.Detections(
                xyxy=np.zeros((0, 4), dtype=np.float32),
                confidence=np.zeros(0, dtype=np.float32),
                class_id=np.zeros(0, dtype=int),
            )
        if self.config.classify_by_shape:
            class_id = classify_by_shape(result.boxes, self.config.vehicle_min_area_px)
        else:
            class_id = np.full(len(result.boxes), CLASS_INDEX[ObjectClass.UNKNOWN], dtype=int)
        confidence = np.clip(result.fill_ratios(), 0.0, 1.0).astype(np.float32)
        return sv.Detections(xyxy=result.boxes, confidence=confidence, class_id=class_id)


def create(config: MotionDetectorConfig) -> MotionDetector:
    """Build a motion detector."""
    return MotionDetector(config)
