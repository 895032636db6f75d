"""Settings shared by every model-based detector plugin (ONNX Runtime, OpenVINO)."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.detectors.base import DetectorPluginConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionGateSettings(_Frozen):
    """Background-subtraction settings of the motion gate in front of a model."""

    history: int = Field(default=500, ge=1, description="Frames the MOG2 background model remembers.")
    var_threshold: float = Field(
        default=16.0, gt=0.0, description="MOG2 squared Mahalanobis distance above which a pixel moves."
    )
    downscale: int = Field(default=2, ge=1, le=16, description="Background subtraction runs at size / this.")
    min_area_px: float = Field(
        default=150.0, ge=0.0, description="Smallest moving blob kept, in full-resolution pixels."
    )
    merge_gap_px: float = Field(default=8.0, ge=0.0, description="Blobs this close (pixels) are merged.")
    warmup_frames: int = Field(
        default=25,
        ge=0,
        description="Frames that only teach the background (full-frame detection meanwhile).",
    )


class GatingConfig(_Frozen):
    """When and where a model runs: on every full frame, or only around motion.

    With ``mode: motion`` a frame without motion runs no inference and returns the previous frame's
    detections (objects that did not move are still there); a frame with motion runs the model on
    padded crops around the moving regions and keeps the previous detections that lie outside them;
    every ``full_frame_interval_s`` the whole frame is detected again, so stationary objects are
    refreshed and stale ones disappear. A frame whose motion lies entirely inside the previous
    detections (objects moving within their own boxes) runs no model either while the last inference
    is younger than ``max_skip_s``: the previous detections are carried, moved by optical flow.
    """

    mode: Literal["none", "motion"] = Field(
        default="none", description="'none': detect every full frame; 'motion': only around motion."
    )
    full_frame_interval_s: float = Field(
        default=2.0, gt=0.0, description="Seconds of stream time between full-frame detections."
    )
    roi_padding: float = Field(
        default=0.5,
        ge=0.0,
        description="Crop padding around a moving blob, as a fraction of its larger side.",
    )
    roi_min_padding_px: float = Field(default=32.0, ge=0.0, description="Smallest crop padding, in pixels.")
    max_rois: int = Field(
        default=1,
        ge=1,
        description="More crops than this run one full-frame detection instead (each crop costs a full "
        "inference on a fixed-size model).",
    )
    max_roi_area_fraction: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Crops covering more than this fraction of the frame run one full-frame detection.",
    )
    max_roi_upscale: float = Field(
        default=1.0,
        gt=0.0,
        description="Largest enlargement of a crop to the model input (1 = never enlarge).",
    )
    max_skip_s: float = Field(
        default=0.0,
        ge=0.0,
        description="Keyframe + propagate: a frame whose every moving region lies inside the previous "
        "detections runs no model and carries them (moved by optical flow), while the last inference is "
        "younger than this (seconds of stream time, e.g. 0.6); 0 (the default) disables it.",
    )
    explain_min_coverage: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="A moving region is explained when at least this fraction of its moving pixels lies "
        "inside the (enlarged) previous detections.",
    )
    explain_margin: float = Field(
        default=0.1,
        ge=0.0,
        description="Previous detections are enlarged by this fraction of their larger side before they "
        "explain motion.",
    )
    explain_min_margin_px: float = Field(
        default=8.0, ge=0.0, description="Smallest enlargement of a previous detection, in pixels."
    )
    explain_min_confidence: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Only previous detections at least this confident explain motion.",
    )
    flow: bool = Field(
        default=True,
        description="Move carried detections by the median optical flow (Lucas-Kanade) of points "
        "inside them; else carry them unchanged.",
    )
    flow_downscale: int = Field(
        default=2,
        ge=1,
        le=16,
        description="The optical flow of carried detections runs at size / this (4 is cheaper but loses "
        "identities on PETS 2009: IDF1 0.55 instead of 0.65).",
    )
    motion: MotionGateSettings = Field(
        default_factory=MotionGateSettings, description="Background-subtraction settings of the gate."
    )


class ModelDetectorConfigBase(_Frozen, DetectorPluginConfig):
    """Fields every model-based detector has: which model, class mapping, filters, runtime, gating."""

    model: str | None = Field(
        default=None, description="Name of a model in the model store (see `hwarang models list`)."
    )
    model_path: Path | None = Field(
        default=None, description="Explicit model file (instead of `model`); relative to the working dir."
    )
    model_store: Path | None = Field(
        default=None,
        description="Model store folder for `model`; default $HWARANG_MODEL_STORE or var/models.",
    )
    labels: list[str] | None = Field(
        default=None,
        description="Model class names by output index; default: the model card's, else COCO's 80.",
    )
    class_map: dict[str, ObjectClass] | None = Field(
        default=None,
        description="Model label -> Hwarang class; default maps COCO / Open Model Zoo names sensibly.",
    )
    unmapped: Literal["drop", "unknown"] = Field(
        default="drop", description="What labels missing from the class map become: dropped, or 'unknown'."
    )
    min_confidence: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Detections below this confidence are dropped."
    )
    min_box_px: float = Field(
        default=0.0,
        ge=0.0,
        description="Detections whose width or height is below this (pixels) are dropped.",
    )
    nms_iou: float = Field(
        default=0.45,
        gt=0.0,
        le=1.0,
        description="IoU above which a lower-scored box of a class is suppressed.",
    )
    max_detections: int = Field(default=300, ge=1, description="Most detections kept per inference.")
    intra_op_threads: int | None = Field(
        default=None, ge=1, description="Threads one inference may use; default: all CPU cores."
    )
    gating: GatingConfig = Field(default_factory=GatingConfig, description="Motion gating of inference.")
    fallback: Literal["motion", "error"] = Field(
        default="motion",
        description="When `model` is not in the model store: 'motion' runs the motion-only detector "
        "(logged as a WARNING; classes become shape guesses), 'error' refuses to start. A model whose "
        "file fails its hash check always refuses to start.",
    )

    @model_validator(mode="after")
    def _one_model(self) -> "ModelDetectorConfigBase":
        if (self.model is None) == (self.model_path is None):
            raise ValueError("give exactly one of `model` (a model store name) or `model_path` (a file)")
        return self
