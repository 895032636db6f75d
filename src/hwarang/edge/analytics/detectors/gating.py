"""Motion gating for model detectors: which regions of a frame are worth an inference."""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from hwarang.edge.analytics.detectors.model_config import GatingConfig
from hwarang.edge.analytics.motion import MotionResult, merge_nearby_boxes

_FLOW_GRID = np.array([0.2, 0.35, 0.5, 0.65, 0.8], dtype=np.float32)
"""Where, as fractions of a box's width and height, the flow points of a carried box sit (5 x 5)."""
_FLOW_MIN_POINTS = 3
_FLOW_WINDOW = (9, 9)
"""Lucas-Kanade window at the flow's (downscaled) resolution."""
_FLOW_LEVELS = 2
_FLOW_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03)


@dataclass(slots=True)
class DetectorStats:
    """Counters of a model detector since start.

    ``inferences`` counts model runs (one per crop or full frame); ``full_frame_inferences`` the
    full-frame ones among them (periodic, warm-up, ungated, or crops too many / too large);
    ``roi_inferences`` the crop runs and ``rois`` the crops planned; ``skipped_frames`` the frames
    without motion that ran no model; ``propagated_frames`` the frames with motion that ran no model
    because the previous detections explained it; ``carried`` the detections kept from the previous
    frame.
    """

    frames: int = 0
    inferences: int = 0
    full_frame_inferences: int = 0
    roi_inferences: int = 0
    rois: int = 0
    skipped_frames: int = 0
    propagated_frames: int = 0
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
            "propagated_frames": self.propagated_frames,
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


def enlarge(boxes: npt.NDArray[np.float32], fraction: float, min_px: float) -> npt.NDArray[np.float32]:
    """``boxes`` (xyxy) grown on every side by ``fraction`` of their larger side, at least ``min_px``."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    pad = np.maximum(sides * fraction, min_px)[:, None]
    return np.concatenate([boxes[:, :2] - pad, boxes[:, 2:] + pad], axis=1).astype(np.float32)


def motion_explained(motion: MotionResult, boxes: npt.NDArray[np.float32], config: GatingConfig) -> bool:
    """Whether every moving region of ``motion`` lies inside ``boxes`` (enlarged by the explain margin).

    A region is explained when at least ``explain_min_coverage`` of its moving pixels fall inside the
    enlarged boxes; a region without moving pixels is explained. No boxes explain no motion.
    """
    moving = motion.mask > 0
    height, width = moving.shape
    scale = float(motion.downscale)
    covered = np.zeros_like(moving)
    grown = enlarge(boxes, config.explain_margin, config.explain_min_margin_px) / scale
    for x1, y1, x2, y2 in grown:
        covered[
            max(int(y1), 0) : min(int(np.ceil(y2)), height), max(int(x1), 0) : min(int(np.ceil(x2)), width)
        ] = True
    for x1, y1, x2, y2 in motion.boxes / scale:
        top, left = max(int(y1), 0), max(int(x1), 0)
        bottom, right = min(int(np.ceil(y2)), height), min(int(np.ceil(x2)), width)
        region = moving[top:bottom, left:right]
        total = int(np.count_nonzero(region))
        inside = int(np.count_nonzero(region & covered[top:bottom, left:right]))
        if total and inside < config.explain_min_coverage * total:
            return False
    return True


class FlowPropagator:
    """Moves boxes from the previous frame to the current one by sparse Lucas-Kanade optical flow.

    Call ``step`` with every frame (it keeps that frame and the one before, grey and downscaled);
    ``move`` shifts each box by the median flow of a 5 x 5 grid of points inside it, and leaves a box
    where it is when fewer than three of its points were tracked. The flow runs at size / ``downscale``
    with a small (9 x 9) window and at most 10 iterations per point, so it costs well under a millisecond.
    """

    def __init__(self, downscale: int) -> None:
        self._downscale = max(downscale, 1)
        self._previous: npt.NDArray[np.uint8] | None = None
        self._current: npt.NDArray[np.uint8] | None = None

    def step(self, image: npt.NDArray[np.uint8]) -> None:
        """Make ``image`` (BGR or grey) the current frame."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if self._downscale > 1:
            size = (max(grey.shape[1] // self._downscale, 1), max(grey.shape[0] // self._downscale, 1))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        current = np.asarray(grey, dtype=np.uint8)
        shape_changed = self._current is not None and self._current.shape != current.shape
        self._previous = None if shape_changed else self._current
        self._current = current

    def move(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``boxes`` (full-resolution xyxy) in the previous frame -> where they are in the current one."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0 or self._previous is None or self._current is None:
            return boxes.copy()
        scale = float(self._downscale)
        small = boxes / scale
        fx, fy = np.meshgrid(_FLOW_GRID, _FLOW_GRID)
        widths, heights = small[:, 2] - small[:, 0], small[:, 3] - small[:, 1]
        xs = small[:, 0, None] + widths[:, None] * fx.ravel()[None, :]
        ys = small[:, 1, None] + heights[:, None] * fy.ravel()[None, :]
        points = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2).astype(np.float32)
        found, found_status, _ = cv2.calcOpticalFlowPyrLK(
            self._previous,
            self._current,
            points,
            points.copy(),
            winSize=_FLOW_WINDOW,
            maxLevel=_FLOW_LEVELS,
            criteria=_FLOW_CRITERIA,
        )
        moved, status = np.asarray(found, dtype=np.float32), np.asarray(found_status)
        per_box = fx.size
        ok = status.reshape(-1, per_box).astype(bool)
        delta = (moved - points).reshape(-1, per_box, 2)
        shift = np.zeros((len(boxes), 2), dtype=np.float32)
        enough = ok.sum(axis=1) >= _FLOW_MIN_POINTS
        for index in np.flatnonzero(enough):  # a few boxes of a few points: cheaper than nanmedian
            shift[index] = np.median(delta[index][ok[index]], axis=0) * scale
        result: npt.NDArray[np.float32] = (boxes + np.tile(shift, 2)).astype(np.float32)
        return result
