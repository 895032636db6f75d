"""NanoDet decoding: a hand-computed cell, output matching by shape, and the stretch back to the image."""

from typing import Any

import numpy as np
import pytest

from hwarang.edge.analytics.detectors.nanodet import (
    NanoDetBackend,
    NanoDetDetectorConfig,
    NanoDetLevel,
    decode_level,
    decode_nanodet,
    match_levels,
)
from hwarang.edge.errors import AnalyticsError

BINS = 11
VERY_LOW = -100.0


def one_hot(index: int) -> list[float]:
    row = [VERY_LOW] * BINS
    row[index] = 0.0
    return row


def cell_bins() -> np.ndarray:
    """Sides left, top, right, bottom with expectations 1, 1, 3 and 5 bins."""
    top = [VERY_LOW] * BINS
    top[0] = top[2] = 0.0  # two equal bins: expectation 1
    uniform = [0.0] * BINS  # expectation (0 + ... + 10) / 11 = 5
    return np.array(one_hot(1) + top + one_hot(3) + uniform, dtype=np.float32)


def test_one_cell_decodes_to_the_hand_computed_box() -> None:
    level = NanoDetLevel(stride=8, columns=2, rows=2, scores_output=0, boxes_output=1)
    scores = np.zeros((4, 80), dtype=np.float32)
    scores[3, 2] = 0.9  # cell 3 = column 1, row 1: centre (1.5 * 8, 1.5 * 8) = (12, 12); class 2 (car)
    scores[0, 0] = 0.2  # below the threshold
    bins = np.zeros((4, 4 * BINS), dtype=np.float32)
    bins[3] = cell_bins()

    raw = decode_level(scores, bins, level, min_confidence=0.3)

    # left 1 x 8, top 1 x 8, right 3 x 8, bottom 5 x 8 from (12, 12)
    np.testing.assert_allclose(raw.boxes, [[4.0, 4.0, 36.0, 52.0]], atol=1e-4)
    np.testing.assert_allclose(raw.scores, [0.9])
    assert raw.labels.tolist() == [2]


def test_levels_are_decoded_together_with_nms() -> None:
    levels = [
        NanoDetLevel(stride=8, columns=2, rows=2, scores_output=0, boxes_output=1),
        NanoDetLevel(stride=16, columns=1, rows=1, scores_output=2, boxes_output=3),
    ]
    small_scores = np.zeros((4, 80), dtype=np.float32)
    small_scores[0, 0] = 0.8  # column 0, row 0: centre (4, 4)
    small_bins = np.tile(np.array(one_hot(0) * 2 + one_hot(2) * 2, dtype=np.float32), (4, 1))
    big_scores = np.array([[0.6] + [0.0] * 79], dtype=np.float32)  # centre (8, 8), same box after decoding
    big_bins = np.array([one_hot(0) * 2 + one_hot(1) * 2], dtype=np.float32)

    raw = decode_nanodet(
        [small_scores, small_bins, big_scores, big_bins], levels, 0.3, 0.3, 100
    )  # IoU 144 / 368 = 0.39

    np.testing.assert_allclose(raw.boxes, [[4.0, 4.0, 20.0, 20.0]], atol=1e-4)
    np.testing.assert_allclose(raw.scores, [0.8])


def test_outputs_are_matched_by_shape_whatever_their_order() -> None:
    shapes = [[1, 169, 80], [1, 169, 44], [1, 676, 80], [1, 2704, 80], [1, 676, 44], [1, 2704, 44]]
    levels = match_levels(shapes, 416, 416, (8, 16, 32), BINS)
    assert [(lv.stride, lv.columns, lv.scores_output, lv.boxes_output) for lv in levels] == [
        (8, 52, 3, 5),
        (16, 26, 2, 4),
        (32, 13, 0, 1),
    ]
    with pytest.raises(AnalyticsError, match="stride 8"):
        match_levels(shapes[:3], 416, 416, (8,), BINS)


class _Port:
    def __init__(self, name: str, shape: list[int]) -> None:
        self.name, self.shape = name, shape


class FakeSession:
    """A 32x32-input NanoDet with one stride-16 level (2x2 cells) and a fixed output."""

    def __init__(self) -> None:
        self.blobs: list[np.ndarray] = []

    def get_inputs(self) -> list[_Port]:
        return [_Port("input", [1, 3, 32, 32])]

    def get_outputs(self) -> list[_Port]:
        return [_Port("scores", [1, 4, 80]), _Port("bins", [1, 4, 44])]

    def run(self, _names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.blobs.append(feeds["input"])
        scores = np.zeros((1, 4, 80), dtype=np.float32)
        scores[0, 0, 0] = 0.7  # cell (0, 0): centre (8, 8)
        bins = np.tile(np.array(one_hot(0) * 2 + one_hot(1) * 2, dtype=np.float32), (1, 4, 1))
        return [scores, bins]  # box (8, 8, 24, 24) in input pixels


def test_stretched_input_maps_boxes_back_and_feeds_rgb_in_0_1() -> None:
    config = NanoDetDetectorConfig(type="onnx-nanodet", model_path="x.onnx", strides=(16,), resize="stretch")
    session = FakeSession()
    backend = NanoDetBackend(session, config)
    image = np.zeros((64, 128, 3), dtype=np.uint8)  # twice as tall, four times as wide as the input
    image[..., 2] = 255  # red in BGR

    (raw,) = backend.infer([image], [None], 0.3)

    np.testing.assert_allclose(raw.boxes, [[32.0, 16.0, 96.0, 48.0]], atol=1e-3)
    blob = session.blobs[0]
    assert blob.shape == (1, 3, 32, 32) and blob.dtype == np.float32
    assert blob[0, 0].min() == pytest.approx(1.0) and blob[0, 2].max() == 0.0  # channel 0 is red


def test_letterboxed_input_keeps_the_aspect() -> None:
    config = NanoDetDetectorConfig(type="onnx-nanodet", model_path="x.onnx", strides=(16,))
    assert config.resize == "letterbox"
    session = FakeSession()
    image = np.zeros((64, 128, 3), dtype=np.uint8)  # scale 0.25: 32x16 at the top-left, grey below

    (raw,) = NanoDetBackend(session, config).infer([image], [None], 0.3)

    # (8, 8, 24, 24) / 0.25 = (32, 32, 96, 96), clipped to the image's 64 rows
    np.testing.assert_allclose(raw.boxes, [[32.0, 32.0, 96.0, 64.0]], atol=1e-3)
    assert session.blobs[0][0, :, 20, 0] == pytest.approx([114 / 255] * 3)
