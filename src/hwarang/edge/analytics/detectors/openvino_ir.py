"""``openvino``: Open Model Zoo detection models (IR ``.xml`` + ``.bin``, or ONNX) via OpenVINO.

Input: BGR, 0..255, resized (stretched) to the model input. Output ``[1, 1, N, 7]`` rows of
(image id, label, confidence, x_min, y_min, x_max, y_max) with coordinates in 0..1; rows after the
first negative image id are unused. Needs the optional extra ``hwarang[openvino]``.
"""

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from hwarang.edge.analytics.detectors.inference import RawDetections, class_aware_nms
from hwarang.edge.analytics.detectors.model_config import ModelDetectorConfigBase
from hwarang.edge.analytics.detectors.model_detector import ModelDetector, resolve_model
from hwarang.edge.analytics.detectors.onnx_runtime import default_threads
from hwarang.edge.errors import AnalyticsError

PLUGIN = "openvino"
logger = logging.getLogger(__name__)

_COMPILED: dict[tuple[str, int, int, str, int], Any] = {}
_LOCK = threading.Lock()


class OpenVinoDetectorConfig(ModelDetectorConfigBase):
    """An Open Model Zoo SSD-style detector, e.g. person-vehicle-bike-detection-2002.

    That model's labels are [vehicle, person, bike].
    """

    type: Literal["openvino"] = Field(description="Plugin selector: OpenVINO (Open Model Zoo IR) detector.")
    device: str = Field(default="CPU", description="OpenVINO device name.")

    def build(self) -> "ModelDetector":
        """The detector this config describes (heavy runtimes are imported when built)."""
        return create(self)


def import_openvino() -> Any:
    """The ``openvino`` module, or an ``AnalyticsError`` naming the package to install."""
    try:
        import openvino
    except ImportError as exc:
        raise AnalyticsError(
            f"{PLUGIN} detector needs the openvino package (pip install 'hwarang[openvino]'): {exc}"
        ) from exc
    return openvino


def compiled_model(path: Path, device: str, threads: int) -> Any:
    """A compiled model shared by every camera using ``path`` (``AnalyticsError`` if it is no model)."""
    ov = import_openvino()
    try:
        stat = path.stat()
    except OSError as exc:
        raise AnalyticsError(f"{PLUGIN} detector: cannot read model file {path}: {exc}") from exc
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, device, threads)
    with _LOCK:
        found = _COMPILED.get(key)
        if found is not None:
            return found
        try:
            model = ov.Core().read_model(str(path))
            compiled = ov.Core().compile_model(model, device, {"INFERENCE_NUM_THREADS": threads})
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long C++ traces
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AnalyticsError(
                f"{PLUGIN} detector: {path} is not a loadable OpenVINO model ({first_line})"
            ) from exc
        _COMPILED[key] = compiled
        logger.info("compiled OpenVINO model %s on %s (%s threads)", path, device, threads)
        return compiled


def decode_ssd(
    output: npt.NDArray[np.float32],
    width: int,
    height: int,
    min_confidence: float,
    nms_iou: float,
    max_detections: int,
) -> RawDetections:
    """``[1, 1, N, 7]`` SSD rows -> boxes in an image of ``width`` x ``height`` pixels."""
    rows = np.asarray(output, dtype=np.float32).reshape(-1, 7)
    ends = np.flatnonzero(rows[:, 0] < 0)
    rows = rows[: ends[0]] if len(ends) else rows
    rows = rows[rows[:, 2] >= min_confidence]
    boxes = (rows[:, 3:7] * np.array([width, height, width, height], dtype=np.float32)).astype(np.float32)
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    scores, labels = rows[:, 2].astype(np.float32), rows[:, 1].astype(int)
    kept = class_aware_nms(boxes, scores, labels, nms_iou, max_detections)
    return RawDetections(boxes=boxes[kept], scores=scores[kept], labels=labels[kept])


class OpenVinoBackend:
    """Resize, run and decode one camera's infer request on a shared compiled model."""

    def __init__(self, compiled: Any, config: OpenVinoDetectorConfig) -> None:
        shape = [int(d) for d in compiled.input(0).get_shape()]
        if len(shape) != 4 or shape[1] != 3:
            raise AnalyticsError(f"{PLUGIN}: expected a 1x3xHxW image input, got {shape}")
        self._request = compiled.create_infer_request()
        self._size = (shape[3], shape[2])
        self._config = config

    @property
    def batch_size(self) -> int:
        """Open Model Zoo IR models take one image at a time."""
        return 1

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model input."""
        return self._size

    def infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None], min_confidence: float
    ) -> list[RawDetections]:
        """Detect in each BGR image (stretched to the input; ``scales`` do not apply)."""
        results = []
        for image in images:
            resized = cv2.resize(image, self._size)
            blob = resized.transpose(2, 0, 1)[None].astype(np.float32)
            self._request.infer({0: blob})
            output = np.asarray(self._request.get_output_tensor(0).data, dtype=np.float32)
            results.append(
                decode_ssd(
                    output,
                    image.shape[1],
                    image.shape[0],
                    min_confidence,
                    self._config.nms_iou,
                    self._config.max_detections,
                )
            )
        return results


def create(config: OpenVinoDetectorConfig) -> ModelDetector:
    """Build an OpenVINO detector; ``labels`` (or the model card's) name the output class ids."""
    model = resolve_model(config, PLUGIN)
    labels = config.labels or model.labels
    if not labels:
        raise AnalyticsError(
            f"{PLUGIN} detector for {model.path}: give `labels`, the model's class names by output id "
            "(person-vehicle-bike-detection-2002: [vehicle, person, bike])"
        )
    compiled = compiled_model(model.path, config.device, config.intra_op_threads or default_threads())
    return ModelDetector(config, OpenVinoBackend(compiled, config), labels, PLUGIN, model)
