"""Event snapshots: the frame with the object's box and label drawn, as a JPEG and its reference."""

import hashlib

import cv2
import numpy as np
import numpy.typing as npt

from hwarang.domain import BoundingBox, SnapshotRef
from hwarang.edge.errors import MediaError

_BOX_COLOR = (0, 0, 255)
_TEXT_COLOR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def render_snapshot(
    image: npt.NDArray[np.uint8],
    box: BoundingBox,
    label: str,
    *,
    quality: int = 85,
    max_width: int = 960,
) -> tuple[bytes, SnapshotRef]:
    """Draw ``box`` and ``label`` on a copy of a BGR ``image``, downscale to ``max_width``, JPEG-encode.

    Returns the JPEG bytes and their ``SnapshotRef`` (SHA-256, encoded width and height). The caller's
    array is never modified. Raises ``MediaError`` for an empty or malformed image or a failed encode.
    """
    _check_image(image)
    if not 1 <= quality <= 100:
        raise MediaError(f"JPEG quality must be within 1..100, got {quality}")
    if max_width < 1:
        raise MediaError(f"max_width must be at least 1, got {max_width}")
    converted = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    canvas: npt.NDArray[np.uint8] = np.asarray(converted, dtype=np.uint8)
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(width, height) / 400))
    x1, y1 = _clamp(box.x1, width), _clamp(box.y1, height)
    x2, y2 = _clamp(box.x2, width), _clamp(box.y2, height)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), _BOX_COLOR, thickness, cv2.LINE_AA)
    _draw_label(canvas, _ascii(label), (x1, y1), thickness)
    if width > max_width:
        new_height = max(1, round(height * max_width / width))
        resized = cv2.resize(canvas, (max_width, new_height), interpolation=cv2.INTER_AREA)
        canvas = np.asarray(resized, dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok or encoded is None or encoded.size == 0:
        raise MediaError(f"JPEG encoding failed for a {width}x{height} snapshot labelled {label!r}")
    data = encoded.tobytes()
    out_height, out_width = canvas.shape[:2]
    ref = SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=out_width, height=out_height)
    return data, ref


def _check_image(image: npt.NDArray[np.uint8]) -> None:
    if not isinstance(image, np.ndarray):
        raise MediaError(f"snapshot image must be a numpy array, got {type(image).__name__}")
    if image.size == 0:
        raise MediaError(f"snapshot image is empty (shape {image.shape})")
    if image.dtype != np.uint8:
        raise MediaError(f"snapshot image must be uint8, got {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise MediaError(f"snapshot image must be HxW or HxWx3 BGR, got shape {image.shape}")


def _clamp(value: float, limit: int) -> int:
    return min(max(round(value), 0), limit - 1)


def _ascii(label: str) -> str:
    """cv2's Hershey fonts draw ASCII only; replace anything else with '?'."""
    return label.encode("ascii", "replace").decode("ascii")


def _draw_label(canvas: npt.NDArray[np.uint8], label: str, corner: tuple[int, int], thickness: int) -> None:
    """The label on a filled background above the box (inside it when there is no room above)."""
    if not label:
        return
    height, width = canvas.shape[:2]
    scale = max(0.4, max(width, height) / 1600)
    (text_w, text_h), baseline = cv2.getTextSize(label, _FONT, scale, thickness)
    pad = 3
    box_h = text_h + baseline + 2 * pad
    x = min(corner[0], max(width - text_w - 2 * pad, 0))
    y_top = corner[1] - box_h if corner[1] - box_h >= 0 else corner[1]
    cv2.rectangle(canvas, (x, y_top), (x + text_w + 2 * pad, y_top + box_h), _BOX_COLOR, -1)
    origin = (x + pad, y_top + pad + text_h)
    cv2.putText(canvas, label, origin, _FONT, scale, _TEXT_COLOR, thickness, cv2.LINE_AA)
