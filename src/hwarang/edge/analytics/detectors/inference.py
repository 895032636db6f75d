"""Building blocks of model inference: raw results, letterboxing, class-aware NMS, the backend protocol."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114
"""Grey used to pad letterboxed images (the YOLO families' convention)."""


@dataclass(frozen=True, slots=True)
class RawDetections:
    """One image's model output after decoding and NMS, in that image's pixels.

    ``boxes`` is float32 ``(N, 4)`` xyxy, ``scores`` float32 ``(N,)``, ``labels`` the model's class ids.
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int_]

    @staticmethod
    def empty() -> "RawDetections":
        """No detections."""
        return RawDetections(
            boxes=np.zeros((0, 4), dtype=np.float32),
            scores=np.zeros(0, dtype=np.float32),
            labels=np.zeros(0, dtype=int),
        )

    def __len__(self) -> int:
        return len(self.scores)


class InferenceBackend(Protocol):
    """Runs a model on whole images and returns decoded, NMS-filtered detections per image."""

    @property
    def batch_size(self) -> int:
        """Most images one ``infer`` call runs at once (1: the model has a fixed batch of one)."""
        ...

    @property
    def input_size(self) -> tuple[int, int]:
        """Model input (width, height) in pixels."""
        ...

    def infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None], min_confidence: float
    ) -> list[RawDetections]:
        """Detect in each BGR image (at most ``batch_size``).

        ``scales[i]`` forces the resize factor of image i (``None``: fit the input); boxes come back in
        each image's own pixels.
        """
        ...


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was placed on the model input: ``input = image * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, boxes: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.float32]:
        """Boxes in model-input pixels -> the original image's pixels, clipped to it."""
        out = boxes.astype(np.float32, copy=True)
        out[:, 0::2] = (out[:, 0::2] - self.pad_x) / self.scale
        out[:, 1::2] = (out[:, 1::2] - self.pad_y) / self.scale
        np.clip(out[:, 0::2], 0, width, out=out[:, 0::2])
        np.clip(out[:, 1::2], 0, height, out=out[:, 1::2])
        return out


def fit_scale(image_size: tuple[int, int], input_size: tuple[int, int]) -> float:
    """The largest scale at which an image (width, height) fits the input (width, height)."""
    return min(input_size[0] / image_size[0], input_size[1] / image_size[1])


def letterbox(
    image: npt.NDArray[np.uint8],
    input_size: tuple[int, int],
    *,
    center: bool,
    scale: float | None = None,
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Resize ``image`` keeping its aspect and pad it with ``PAD_VALUE`` to ``input_size`` (w, h).

    ``center`` pads on both sides (Ultralytics) instead of right and bottom only (YOLOX); ``scale``
    forces a resize factor no larger than the fitting one.
    """
    height, width = image.shape[:2]
    fit = fit_scale((width, height), input_size)
    ratio = fit if scale is None else min(scale, fit)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    resized = image if (new_w, new_h) == (width, height) else cv2.resize(image, (new_w, new_h))
    canvas = np.full((input_size[1], input_size[0], 3), PAD_VALUE, dtype=np.uint8)
    pad_x = (input_size[0] - new_w) / 2 if center else 0.0
    pad_y = (input_size[1] - new_h) / 2 if center else 0.0
    left, top = round(pad_x - 0.1), round(pad_y - 0.1)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, Letterbox(scale=ratio, pad_x=float(left), pad_y=float(top))


def class_aware_nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int_],
    iou_threshold: float,
    max_detections: int,
) -> npt.NDArray[np.int_]:
    """Indices kept by greedy NMS run separately per label, best score first (at most ``max_detections``)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    # Shift each label's boxes to its own region of the plane so that one pass never mixes labels.
    offset = (labels.astype(np.float32) * (float(boxes.max()) + 1.0))[:, None]
    shifted = boxes + offset
    x1, y1, x2, y2 = shifted.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while len(order) > 0 and len(keep) < max_detections:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        width = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0)
        height = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0)
        inter = width * height
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=int)
