"""Motion gate on synthetic frames: a textured static background and a moving rectangle."""

import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from hwarang.edge.analytics.motion import MotionGate, merge_nearby_boxes
from hwarang.edge.errors import AnalyticsError

WIDTH, HEIGHT = 320, 240


def background(seed: int = 1) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    return rng.integers(60, 120, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


def scene(
    frame: int, *, size: tuple[int, int] = (30, 60), first_frame: int = 30
) -> tuple[npt.NDArray[np.uint8], list[int]]:
    """Noisy static background; from ``first_frame`` on, a bright rectangle with a coarse texture (so
    that it does not look static to MOG2) walks right 5 px a frame. Returns the image and its xyxy box."""
    rng = np.random.default_rng(1000 + frame)
    noisy = background().astype(np.int16) + rng.integers(-3, 4, size=(HEIGHT, WIDTH, 3))
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    x1, y1 = 20 + 5 * (frame - first_frame), 100
    box = [x1, y1, x1 + size[0], y1 + size[1]]
    if frame >= first_frame:
        blocks = np.random.default_rng(7).integers(150, 255, size=(size[1] // 8 + 1, size[0] // 8 + 1, 1))
        texture = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)[: size[1], : size[0]]
        image[box[1] : box[3], box[0] : box[2]] = texture.astype(np.uint8)
    return image, box


def test_no_boxes_while_warming_up_then_one_box_on_the_mover() -> None:
    gate = MotionGate(warmup_frames=30, min_area_px=200, downscale=2)
    for frame in range(30):
        result = gate.apply(scene(frame)[0])
        assert result.warming_up and len(result.boxes) == 0
    for frame in range(31, 60):
        image, truth = scene(frame)
        result = gate.apply(image)
        assert not result.warming_up
        assert result.boxes.dtype == np.float32 and result.boxes.shape == (1, 4), f"frame {frame}"
        iou = sv.box_iou_batch(np.array([truth], dtype=np.float32), result.boxes)[0, 0]
        assert iou > 0.6, f"frame {frame}: box {result.boxes[0]} vs truth {truth} (IoU {iou:.2f})"
    assert result.mask.shape == (HEIGHT // 2, WIDTH // 2)
    assert 0.005 < result.motion_ratio < 0.1
    assert float(result.fill_ratios()[0]) > 0.7


def test_input_is_not_mutated() -> None:
    gate = MotionGate(warmup_frames=2)
    for frame in range(6):
        image = scene(frame)[0]
        before = image.copy()
        gate.apply(image)
        assert np.array_equal(image, before)


def test_static_scene_gives_no_boxes() -> None:
    gate = MotionGate(warmup_frames=5)
    still = scene(0)[0]
    assert all(len(gate.apply(still).boxes) == 0 for _ in range(30))


@pytest.mark.parametrize("downscale", [1, 4])
def test_min_area_is_in_full_resolution_pixels(downscale: int) -> None:
    # The mover is 32x64 = 2048 px; blur and closing grow its blob to about 2200..2700 px.
    small = MotionGate(warmup_frames=30, min_area_px=1200, downscale=downscale)
    large = MotionGate(warmup_frames=30, min_area_px=4000, downscale=downscale)
    found_small = found_large = 0
    for frame in range(50):  # 30 warm-up frames, then 20 with the mover
        image = scene(frame, size=(32, 64))[0]
        found_small += len(small.apply(image).boxes)
        found_large += len(large.apply(image).boxes)
    assert found_small >= 15 and found_large == 0


def test_frame_size_change_restarts_warm_up() -> None:
    gate = MotionGate(warmup_frames=3)
    for frame in range(5):
        gate.apply(scene(frame)[0])
    assert gate.apply(np.zeros((100, 100, 3), dtype=np.uint8)).warming_up


def test_grey_images_are_accepted_and_bad_ones_rejected() -> None:
    gate = MotionGate(warmup_frames=0)
    assert gate.apply(np.zeros((50, 60), dtype=np.uint8)).mask.shape == (25, 30)
    with pytest.raises(AnalyticsError, match=r"uint8 BGR .* got dtype float32"):
        gate.apply(np.zeros((50, 60, 3), dtype=np.float32))
    with pytest.raises(AnalyticsError, match=r"shape \(50, 60, 4\)"):
        gate.apply(np.zeros((50, 60, 4), dtype=np.uint8))
    with pytest.raises(AnalyticsError, match="downscale"):
        MotionGate(downscale=0)


def test_merge_nearby_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [12, 0, 20, 10], [100, 100, 110, 110], [21, 5, 30, 30]], dtype=np.float32
    )
    merged = merge_nearby_boxes(boxes, gap_px=3)
    assert sorted(map(tuple, merged.tolist())) == [(0, 0, 30, 30), (100, 100, 110, 110)]
    assert len(merge_nearby_boxes(boxes, gap_px=0)) == 4
    assert merge_nearby_boxes(np.zeros((0, 4), dtype=np.float32), 5).shape == (0, 4)
