"""Motion gating for model detectors: which regions of a frame are worth an inference."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwarang.edge.analytics.detectors.model_config import GatingConfig
from hwarang.edge.analytics.motion import merge_nearby_boxes


@dataclass(slots=True)
class DetectorStats:
    """Counters of a model detector since start.

    ``inferences`` counts model runs (one per crop or full frame); ``full_frame_inferences`` the
    full-frame ones among them (periodic, warm-up, ungated, or crops too many / too large);
    ``roi_inferences`` the crop runs and ``rois`` the crops planned; ``skipped_frames`` the frames
    without motion that ran no model; ``carried`` the detections kept from the previous frame.
    """

    frames: int = 0
    inferences: int = 0
    full_frame_inferences: int = 0
    roi_inferences: int = 0
    rois: int = 0
    skipped_frames: int = 0
    carried: int = 0
    inference_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The counters by name (for health records and JSON reports)."""
        return {
            "frames": self.frames,
            "inferences": self.inferences,
            "full_frame_inferences": self.full_frame_inferences,
            "roi_inferences": self.roi_inferences,
            "rois": self.rois,
            "skipped_frames": self.skipped_frames,
            "carried": self.carried,
            "inference_ms": round(self.inference_ms, 3),
        }


def plan_rois(
    motion_boxes: npt.NDArray[np.float32], width: int, height: int, config: GatingConfig
) -> npt.NDArray[np.int_] | None:
    """Integer xyxy crops around ``motion_boxes``, or ``None`` when one full frame is cheaper.

    Each box is padded by ``roi_padding`` of its larger side (at least ``roi_min_padding_px``),
    overlapping crops are merged, and the result is clipped to the frame. More than ``max_rois``
    crops, or crops covering more than ``max_roi_area_fraction`` of the frame, give ``None``.
    """
    boxes = np.asarray(motion_boxes, dtype=np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return np.zeros((0, 4), dtype=int)
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    pad = np.maximum(sides * config.roi_padding, config.roi_min_padding_px)[:, None]
    padded = np.concatenate([boxes[:, :2] - pad, boxes[:, 2:] + pad], axis=1)
    merged = merge_nearby_boxes(padded.astype(np.float32), 0.0)
    np.clip(merged[:, 0::2], 0, width, out=merged[:, 0::2])
    np.clip(merged[:, 1::2], 0, height, out=merged[:, 1::2])
    rois = np.column_stack([np.floor(merged[:, :2]), np.ceil(merged[:, 2:])]).astype(int)
    area = float(np.sum((rois[:, 2] - rois[:, 0]) * (rois[:, 3] - rois[:, 1])))
    if len(rois) > config.max_rois or area > config.max_roi_area_fraction * width * height:
        return None
    return rois


def outside_all(boxes: npt.NDArray[np.float32], rois: npt.NDArray[np.int_]) -> npt.NDArray[np.bool_]:
    """For each box, whether it overlaps none of the crops."""
    if len(boxes) == 0 or len(rois) == 0:
        return np.ones(len(boxes), dtype=bool)
    overlap_x = np.minimum(boxes[:, None, 2], rois[None, :, 2]) > np.maximum(
        boxes[:, None, 0], rois[None, :, 0]
    )
    overlap_y = np.minimum(boxes[:, None, 3], rois[None, :, 3]) > np.maximum(
        boxes[:, None, 1], rois[None, :, 1]
    )
    result: npt.NDArray[np.bool_] = ~np.any(overlap_x & overlap_y, axis=1)
    return result
