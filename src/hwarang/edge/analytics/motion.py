"""Motion gate: MOG2 background subtraction that finds the regions worth running a detector on."""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from hwarang.edge.errors import AnalyticsError

_FOREGROUND = 255
_SHADOW_CUTOFF = 200  # MOG2 marks shadows 127 and foreground 255; keep only the latter.


@dataclass(frozen=True, slots=True)
class MotionResult:
    """What moved in one frame.

    ``mask`` is the cleaned foreground mask (uint8, 0 or 255) at the processing resolution, i.e. the
    full-resolution size divided by ``downscale``; ``boxes`` are float32 ``(N, 4)`` xyxy in
    full-resolution pixels; ``motion_ratio`` is the foreground fraction of the mask.
    """

    mask: npt.NDArray[np.uint8]
    boxes: npt.NDArray[np.float32]
    motion_ratio: float
    downscale: int
    warming_up: bool

    def fill_ratios(self) -> npt.NDArray[np.float32]:
        """Fraction of foreground mask pixels inside each box (0..1), one value per box."""
        ratios = np.zeros(len(self.boxes), dtype=np.float32)
        height, width = self.mask.shape
        for i, (x1, y1, x2, y2) in enumerate(self.boxes / self.downscale):
            left, top = max(int(x1), 0), max(int(y1), 0)
            right, bottom = min(int(np.ceil(x2)), width), min(int(np.ceil(y2)), height)
            if right <= left or bottom <= top:
                continue
            patch = self.mask[top:bottom, left:right]
            ratios[i] = float(np.count_nonzero(patch)) / float(patch.size)
        return ratios


class MotionGate:
    """MOG2 background subtraction on a downscaled, grey, blurred copy of each frame.

    Shadow pixels are dropped, the mask is opened (3x3) and closed (7x7) at the processing resolution,
    blobs whose contour area is below ``min_area_px`` full-resolution pixels are dropped, and boxes at
    most ``merge_gap_px`` apart are merged. The first ``warmup_frames`` frames only teach the
    background model and yield no boxes. A change of frame size restarts the model (and its warm-up),
    as after a camera reconnect at another resolution.
    """

    def __init__(
        self,
        *,
        history: int = 500,
        var_threshold: float = 16.0,
        detect_shadows: bool = True,
        downscale: int = 2,
        min_area_px: float = 200.0,
        merge_gap_px: float = 4.0,
        warmup_frames: int = 25,
    ) -> None:
        if history < 1:
            raise AnalyticsError(f"motion gate: history must be >= 1 frame, got {history}")
        if var_threshold <= 0:
            raise AnalyticsError(f"motion gate: var_threshold must be > 0, got {var_threshold}")
        if downscale < 1:
            raise AnalyticsError(f"motion gate: downscale must be an integer >= 1, got {downscale}")
        if min_area_px < 0 or merge_gap_px < 0 or warmup_frames < 0:
            raise AnalyticsError(
                "motion gate: min_area_px, merge_gap_px and warmup_frames must be >= 0, got "
                f"{min_area_px}, {merge_gap_px}, {warmup_frames}"
            )
        self._history = history
        self._var_threshold = var_threshold
        self._detect_shadows = detect_shadows
        self._downscale = downscale
        self._min_area_px = min_area_px
        self._merge_gap_px = merge_gap_px
        self._warmup_frames = warmup_frames
        self._open_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self._shape: tuple[int, ...] | None = None
        self._seen = 0
        self._subtractor = self._new_subtractor()

    def _new_subtractor(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=self._history, varThreshold=self._var_threshold, detectShadows=self._detect_shadows
        )

    def reset(self) -> None:
        """Forget the background model and start warming up again."""
        self._subtractor = self._new_subtractor()
        self._shape = None
        self._seen = 0

    def apply(self, image: npt.NDArray[np.uint8]) -> MotionResult:
        """Update the background model with ``image`` (BGR or grey, never modified) and find motion."""
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
            raise AnalyticsError(
                f"motion gate: expected a uint8 BGR (H, W, 3) or grey (H, W) image, "
                f"got dtype {image.dtype} and shape {image.shape}"
            )
        if image.shape != self._shape:
            self.reset()
            self._shape = image.shape
        small = self._prepare(image)
        raw = self._subtractor.apply(small)
        self._seen += 1
        _, foreground = cv2.threshold(raw, _SHADOW_CUTOFF, _FOREGROUND, cv2.THRESH_BINARY)
        opened = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, self._open_kernel)
        mask = np.asarray(cv2.morphologyEx(opened, cv2.MORPH_CLOSE, self._close_kernel), dtype=np.uint8)
        ratio = float(np.count_nonzero(mask)) / float(mask.size)
        warming_up = self._seen <= self._warmup_frames
        if warming_up:
            boxes = np.zeros((0, 4), dtype=np.float32)
        else:
            boxes = self._boxes(mask, image.shape[1], image.shape[0])
        return MotionResult(
            mask=mask,
            boxes=boxes,
            motion_ratio=ratio,
            downscale=self._downscale,
            warming_up=warming_up,
        )

    def _prepare(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if self._downscale > 1:
            size = (max(grey.shape[1] // self._downscale, 1), max(grey.shape[0] // self._downscale, 1))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.GaussianBlur(grey, (5, 5), 0), dtype=np.uint8)

    def _boxes(self, mask: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.float32]:
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        scale = float(self._downscale)
        min_area_small = self._min_area_px / (scale * scale)
        rects = [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= min_area_small]
        if not rects:
            return np.zeros((0, 4), dtype=np.float32)
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in rects], dtype=np.float32) * scale
        boxes = merge_nearby_boxes(boxes, self._merge_gap_px)
        np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
        return boxes


def merge_nearby_boxes(boxes: npt.NDArray[np.float32], gap_px: float) -> npt.NDArray[np.float32]:
    """Merge boxes (xyxy) whose edges are at most ``gap_px`` apart, repeatedly, until none are."""
    merged = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    while len(merged) > 1:
        apart_x = np.maximum(merged[:, None, 0], merged[None, :, 0]) - np.minimum(
            merged[:, None, 2], merged[None, :, 2]
        )
        apart_y = np.maximum(merged[:, None, 1], merged[None, :, 1]) - np.minimum(
            merged[:, None, 3], merged[None, :, 3]
        )
        near = (apart_x <= gap_px) & (apart_y <= gap_px)
        labels = np.arange(len(merged))
        while True:  # connected components: every box takes the smallest label among its neighbours
            spread = np.where(near, labels[None, :], len(merged)).min(axis=1)
            if np.array_equal(spread, labels):
                break
            labels = spread
        groups = np.unique(labels)
        if len(groups) == len(merged):
            break
        merged = np.array(
            [[*merged[labels == g, :2].min(axis=0), *merged[labels == g, 2:].max(axis=0)] for g in groups],
            dtype=np.float32,
        )
    return merged
