"""``onnx-yolox``: YOLOX-family ONNX models via ONNX Runtime.

Input: BGR, no normalisation, letterboxed with grey 114 at the top-left. Output ``[1, A, 5 + C]``:
per anchor (x, y, log w, log h) relative to a grid cell of strides 8, 16 and 32, objectness and class
scores (already sigmoid). Score = objectness x class score, best class per anchor, class-aware NMS.
"""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from hwarang.edge.analytics.detectors.inference import RawDetections, class_aware_nms, letterbox
from hwarang.edge.analytics.detectors.labels import COCO80_LABELS
from hwarang.edge.analytics.detectors.model_config import ModelDetectorConfigBase
from hwarang.edge.analytics.detectors.model_detector import ModelDetector, resolve_model
from hwarang.edge.analytics.detectors.onnx_runtime import (
    SessionOptions,
    default_threads,
    input_shape,
    onnx_session,
)
from hwarang.edge.errors import AnalyticsError

PLUGIN = "onnx-yolox"


class YoloxDetectorConfig(ModelDetectorConfigBase):
    """A YOLOX-family ONNX model (e.g. yolox_nano.onnx, 416x416, COCO)."""

    type: Literal["onnx-yolox"] = Field(description="Plugin selector: YOLOX ONNX model via ONNX Runtime.")
    strides: tuple[int, ...] = Field(default=(8, 16, 32), description="Feature-map strides of the head.")

    def build(self) -> "ModelDetector":
        """The detector this config describes (heavy runtimes are imported when built)."""
        return create(self)


def yolox_grid(
    width: int, height: int, strides: Sequence[int]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per-anchor grid cell (x, y) and stride for an input of ``width`` x ``height``."""
    cells, steps = [], []
    for stride in strides:
        ys, xs = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        cells.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        steps.append(np.full((cells[-1].shape[0], 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(steps).astype(np.float32)


def decode_yolox(
    output: npt.NDArray[np.float32],
    grid: npt.NDArray[np.float32],
    strides: npt.NDArray[np.float32],
    min_confidence: float,
    nms_iou: float,
    max_detections: int,
) -> RawDetections:
    """One image's raw YOLOX output ``(A, 5 + C)`` -> boxes in model-input pixels after NMS."""
    if output.ndim != 2 or output.shape[0] != len(grid) or output.shape[1] < 6:
        raise AnalyticsError(
            f"{PLUGIN}: expected output ({len(grid)}, 5 + classes) for the input size, got {output.shape}"
        )
    class_scores = output[:, 5:]
    labels = np.argmax(class_scores, axis=1)
    scores = output[:, 4] * class_scores[np.arange(len(output)), labels]
    keep = scores >= min_confidence
    centers = (output[keep, :2] + grid[keep]) * strides[keep]
    sizes = np.exp(np.clip(output[keep, 2:4], -10.0, 10.0)) * strides[keep]
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1).astype(np.float32)
    scores, labels = scores[keep].astype(np.float32), labels[keep].astype(int)
    kept = class_aware_nms(boxes, scores, labels, nms_iou, max_detections)
    return RawDetections(boxes=boxes[kept], scores=scores[kept], labels=labels[kept])


class YoloxBackend:
    """Letterbox, run and decode a YOLOX session."""

    def __init__(self, session: Any, config: YoloxDetectorConfig) -> None:
        batch, channels, height, width = input_shape(session)
        if channels not in (None, 3) or height is None or width is None:
            raise AnalyticsError(
                f"{PLUGIN}: expected a fixed-size 3-channel input, got {session.get_inputs()[0].shape}"
            )
        self._session = session
        self._name = session.get_inputs()[0].name
        self._config = config
        self._size = (width, height)
        self._batch = 1 if batch == 1 else 8
        self._grid, self._strides = yolox_grid(width, height, config.strides)

    @property
    def batch_size(self) -> int:
        """1 for a fixed-batch export; 8 for a dynamic batch axis."""
        return self._batch

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model input."""
        return self._size

    def infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None], min_confidence: float
    ) -> list[RawDetections]:
        """Detect in each BGR image; boxes in that image's pixels."""
        boxes = [
            letterbox(image, self._size, center=False, scale=scale)
            for image, scale in zip(images, scales, strict=True)
        ]
        blob = np.stack([canvas.transpose(2, 0, 1) for canvas, _ in boxes]).astype(np.float32)
        (output,) = self._session.run(None, {self._name: blob})[:1]
        results = []
        for i, (image, (_, placement)) in enumerate(zip(images, boxes, strict=True)):
            raw = decode_yolox(
                np.asarray(output[i], dtype=np.float32),
                self._grid,
                self._strides,
                min_confidence,
                self._config.nms_iou,
                self._config.max_detections,
            )
            mapped = placement.to_image(raw.boxes, image.shape[1], image.shape[0])
            results.append(RawDetections(boxes=mapped, scores=raw.scores, labels=raw.labels))
        return results


def create(config: YoloxDetectorConfig) -> ModelDetector:
    """Build a YOLOX detector (the ONNX Runtime session is shared by every camera using the model)."""
    model = resolve_model(config, PLUGIN)
    options = SessionOptions(intra_op_threads=config.intra_op_threads or default_threads())
    session = onnx_session(model.path, options, PLUGIN)
    labels = config.labels or model.labels or COCO80_LABELS
    return ModelDetector(config, YoloxBackend(session, config), labels, PLUGIN, model)
