"""render_snapshot: a valid JPEG with its content hash, the caller's image untouched."""

import hashlib

import cv2
import numpy as np
import pytest

from hwarang.domain import BoundingBox
from hwarang.edge.errors import MediaError
from hwarang.edge.media import render_snapshot


def _image(width: int = 320, height: int = 240) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 120, (height, width, 3), dtype=np.uint8)


def _smooth_image(width: int = 320, height: int = 240) -> np.ndarray:
    ramp = np.linspace(30, 110, width, dtype=np.float32)
    return np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2).astype(np.uint8)


def _decode(data: bytes) -> np.ndarray:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded


def test_returns_a_jpeg_with_its_hash_and_size() -> None:
    image = _image()
    data, ref = render_snapshot(image, BoundingBox(x1=100, y1=80, x2=180, y2=200), "person #3 0.91")
    assert data[:3] == b"\xff\xd8\xff"
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.content_type == "image/jpeg"
    assert _decode(data).shape == (ref.height, ref.width, 3) == (240, 320, 3)


def test_box_and_label_are_drawn_on_a_copy() -> None:
    image = _smooth_image()
    before = image.copy()
    data, _ = render_snapshot(image, BoundingBox(x1=100, y1=80, x2=180, y2=200), "person")
    assert np.array_equal(image, before)
    decoded = _decode(data).astype(np.int16)
    edge = decoded[140, 98:103]  # the left edge of the box, drawn in red
    assert (edge[:, 2] - edge[:, 1]).max() > 80
    label_area = decoded[55:78, 100:160]
    assert label_area.max() > 200  # white text on a red background
    untouched = np.abs(decoded[150:200, 220:300] - before[150:200, 220:300].astype(np.int16))
    assert untouched.max() < 8


def test_wide_images_are_downscaled() -> None:
    data, ref = render_snapshot(_image(1920, 1080), BoundingBox(x1=10, y1=10, x2=400, y2=600), "vehicle")
    assert (ref.width, ref.height) == (960, 540)
    assert _decode(data).shape[:2] == (540, 960)
    _, small = render_snapshot(
        _image(1920, 1080), BoundingBox(x1=10, y1=10, x2=40, y2=60), "x", max_width=480
    )
    assert (small.width, small.height) == (480, 270)


def test_quality_changes_the_bytes() -> None:
    image, box = _image(), BoundingBox(x1=1, y1=1, x2=50, y2=50)
    low, low_ref = render_snapshot(image, box, "a", quality=20)
    high, high_ref = render_snapshot(image, box, "a", quality=95)
    assert len(low) < len(high) and low_ref.sha256 != high_ref.sha256


def test_boxes_outside_the_image_and_non_ascii_labels_are_tolerated() -> None:
    data, ref = render_snapshot(_image(), BoundingBox(x1=-50, y1=-20, x2=900, y2=700), "사람 person")
    assert (ref.width, ref.height) == (320, 240)
    assert _decode(data).shape == (240, 320, 3)


def test_grayscale_images_are_accepted() -> None:
    gray = np.full((100, 120), 90, np.uint8)
    data, ref = render_snapshot(gray, BoundingBox(x1=10, y1=10, x2=50, y2=60), "p")
    assert (ref.width, ref.height) == (120, 100)
    assert _decode(data).shape == (100, 120, 3)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((10, 10, 3), np.float32), "uint8"),
        (np.zeros((10, 10, 4), np.uint8), "shape"),
    ],
)
def test_bad_images_raise_media_error(image: np.ndarray, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        render_snapshot(image, BoundingBox(x1=0, y1=0, x2=1, y2=1), "x")


def test_bad_quality_raises_media_error() -> None:
    with pytest.raises(MediaError, match="quality"):
        render_snapshot(_image(), BoundingBox(x1=0, y1=0, x2=1, y2=1), "x", quality=0)
