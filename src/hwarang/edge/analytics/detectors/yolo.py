"""``onnx-yolo``: Ultralytics YOLOv8 / YOLO11 ONNX exports via ONNX Runtime.

Input: RGB scaled to 0..1, letterboxed with grey 114 centred. Output ``[1, 4 + C, N]`` (or
``[1, N, 4 + C]``): box centre x, y, width, height in input pixels, then C class scores; no
objectness. Best class per box, class-aware NMS. Class names come from the export's ``names``
metadata when present.
"""

import ast
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

PLUGIN = "onnx-yolo"


class YoloDetectorConfig(ModelDetectorConfigBase):
    """An Ultralytics YOLO ONNX export (``yolo export format=onnx``)."""

    type: Literal["onnx-yolo"] = Field(description="Plugin selector: Ultralytics YOLO ONNX via ONNX Runtime.")
    input_size: int = Field(
        default=640, ge=32, description="Input side in pixels when the export has dynamic height and width."
    )

    def build(self) -> "ModelDetector":
        """The detector this config describes (heavy runtimes are imported when built)."""
        return create(self)


def decode_yolo(
    output: npt.NDArray[np.float32],
    num_classes: int,
    min_confidence: float,
    nms_iou: float,
    max_detections: int,
) -> RawDetections:
    """One image's raw output, ``(4 + C, N)`` or ``(N, 4 + C)`` -> boxes in input pixels after NMS."""
    channels = 4 + num_classes
    if output.ndim != 2 or channels not in output.shape:
        raise AnalyticsError(
            f"{PLUGIN}: expected output (4 + {num_classes}, N) for {num_classes} labels, got {output.shape}"
        )
    rows = output.T if output.shape[0] == channels else output
    class_scores = rows[:, 4:]
    labels = np.argmax(class_scores, axis=1)
    scores = class_scores[np.arange(len(rows)), labels]
    keep = scores >= min_confidence
    cxcy, wh = rows[keep, :2], rows[keep, 2:4]
    boxes = np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=1).astype(np.float32)
    scores, labels = scores[keep].astype(np.float32), labels[keep].astype(int)
    kept = class_aware_nms(boxes, scores, labels, nms_iou, max_detections)
    return RawDetections(boxes=boxes[kept], scores=scores[kept], labels=labels[kept])


def metadata_labels(session: Any) -> tuple[str, ...] | None:
    """Class names from an Ultralytics export's ``names`` metadata (``{0: 'person', ...}``), if any."""
    try:
        names = session.get_modelmeta().custom_metadata_map.get("names")
        parsed = ast.literal_eval(names) if isinstance(names, str) else None
    except (ValueError, SyntaxError, AttributeError):
        return None
    if isinstance(parsed, dict) and all(isinstance(k, int) for k in parsed):
        return tuple(str(parsed[k]) for k in sorted(parsed))
    return None


class YoloBackend:
    """Letterbox, run and decode an Ultralytics YOLO session."""

    def __init__(self, session: Any, config: YoloDetectorConfig, num_classes: int) -> None:
        batch, channels, height, width = input_shape(session)
        if channels not in (None, 3):
            raise AnalyticsError(f"{PLUGIN}: expected a 3-channel input, got {session.get_inputs()[0].shape}")
        self._session = session
        self._name = session.get_inputs()[0].name
        self._config = config
        self._size = (width or config.input_size, height or config.input_size)
        self._batch = 1 if batch == 1 else 8
        self._classes = num_classes

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
        placed = [
            letterbox(image, self._size, center=True, scale=scale)
            for image, scale in zip(images, scales, strict=True)
        ]
        blob = (
            np.stack([canvas[:, :, ::-1].transpose(2, 0, 1) for canvas, _ in placed]).astype(np.float32)
            / 255.0
        )
        output = np.asarray(self._session.run(None, {self._name: blob})[0], dtype=np.float32)
        if output.ndim == 2:
            output = output[None]
        results = []
        for i, (image, (_, placement)) in enumerate(zip(images, placed, strict=True)):
            raw = decode_yolo(
                output[i], self._classes, min_confidence, self._config.nms_iou, self._config.max_detections
            )
            mapped = placement.to_image(raw.boxes, image.shape[1], image.shape[0])
            results.append(RawDetections(boxes=mapped, scores=raw.scores, labels=raw.labels))
        return results


def create(config: YoloDetectorConfig) -> ModelDetector:
    """Build an Ultralytics YOLO detector (sessions shared across cameras)."""
    model = resolve_model(config, PLUGIN)
    options = SessionOptions(intra_op_threads=config.intra_op_threads or default_threads())
    session = onnx_session(model.path, options, PLUGIN)
    labels = config.labels or model.labels or metadata_labels(session) or COCO80_LABELS
    return ModelDetector(config, YoloBackend(session, config, len(labels)), labels, PLUGIN, model)
