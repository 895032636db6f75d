"""Keyframe + propagate gating: motion inside known objects skips inference, new motion does not."""

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from hwarang.edge.analytics.detectors import GatingConfig, ModelDetector, YoloxDetectorConfig
from hwarang.edge.analytics.detectors.gating import FlowPropagator, enlarge, motion_explained
from hwarang.edge.analytics.detectors.inference import RawDetections
from hwarang.edge.analytics.motion import MotionResult
from hwarang.edge.frame import Frame

T0 = datetime(2024, 5, 1, tzinfo=UTC)
HEIGHT, WIDTH = 240, 320
TEXTURE = np.kron(
    np.random.default_rng(7).choice(np.array([140, 255], dtype=np.uint8), size=(10, 5)),
    np.ones((6, 6), dtype=np.uint8),
)
"""A bright, textured figure: optical flow can follow it and the backend finds it by brightness."""
WARMUP = 12
START = WARMUP + 1
"""Index of the first frame after the warm-up and one still (empty) frame."""


class BrightBackend:
    """Finds one object per bright connected column band; records every image it was given."""

    batch_size = 1
    input_size = (64, 64)

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None], min_confidence: float
    ) -> list[RawDetections]:
        results = []
        for image in images:
            self.calls.append((image.shape[1], image.shape[0]))
            bright = np.any(image[:, :, 0] > 128, axis=0)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], bright.astype(int), [0]])))
            boxes = []
            for left, right in zip(edges[0::2], edges[1::2], strict=True):
                ys = np.flatnonzero(np.any(image[:, left:right, 0] > 128, axis=1))
                boxes.append([left, ys.min(), right, ys.max() + 1])
            if not boxes:
                results.append(RawDetections.empty())
                continue
            n = len(boxes)
            results.append(
                RawDetections(
                    np.array(boxes, dtype=np.float32),
                    np.full(n, 0.9, dtype=np.float32),
                    np.zeros(n, dtype=int),
                )
            )
        return results


def scene(index: int, figures: Sequence[tuple[int, int]], fps: float = 10.0) -> Frame:
    """Dark background with textured figures whose top-left corners are ``figures``."""
    image = np.full((HEIGHT, WIDTH, 3), 40, dtype=np.uint8)
    for x, y in figures:
        image[y : y + 60, x : x + 30] = TEXTURE[:, :, None]
    return Frame(image=image, index=index, pts_s=index / fps, wall_time=T0)


def detector(max_skip_s: float, backend: BrightBackend) -> ModelDetector:
    config = YoloxDetectorConfig.model_validate(
        {
            "type": "onnx-yolox",
            "model_path": "unused.onnx",
            "gating": {
                "mode": "motion",
                "max_skip_s": max_skip_s,
                "full_frame_interval_s": 100.0,
                "motion": {"warmup_frames": WARMUP, "downscale": 1},
            },
        }
    )
    return ModelDetector(config, backend, ["person"], "test")


def walk_in(gated: ModelDetector, backend: BrightBackend) -> None:
    """Warm up on an empty scene, then a figure appears at x = 100 (a new object: one model run)."""
    for i in range(START):
        gated.detect(scene(i, []))
    gated.detect(scene(START, [(100, 80)]))
    assert len(backend.calls) == WARMUP + 1 and gated.stats.skipped_frames == 1


def walk(start: int, frames: int) -> list[tuple[int, int]]:
    """Frame index and figure x of ``frames`` frames after ``start``, walking 4 px a frame from x = 100."""
    return [(i, 100 + 4 * (i - START)) for i in range(start, start + frames)]


def test_an_object_moving_inside_its_box_is_propagated_without_inference() -> None:
    backend = BrightBackend()
    gated = detector(1.0, backend)
    walk_in(gated, backend)
    for i, x in walk(START + 1, 5):  # 4 px a frame: always inside its (enlarged) previous box
        carried = gated.detect(scene(i, [(x, 80)]))
    stats = gated.stats
    assert len(backend.calls) == WARMUP + 1  # no model run for the five moving frames
    assert stats.propagated_frames == 5 and stats.inferences == WARMUP + 1
    assert len(carried) == 1
    x1, y1, x2, y2 = carried.xyxy[0].tolist()
    assert abs(x1 - 120) <= 2 and abs(x2 - 150) <= 2  # moved with the figure by optical flow
    assert abs(y1 - 80) <= 2 and abs(y2 - 140) <= 2
    assert stats.as_dict()["propagated_frames"] == 5


def test_a_new_object_appearing_forces_inference() -> None:
    backend = BrightBackend()
    gated = detector(1.0, backend)
    walk_in(gated, backend)
    ((i, x),) = walk(START + 1, 1)
    gated.detect(scene(i, [(x, 80)]))
    assert gated.stats.propagated_frames == 1 and len(backend.calls) == WARMUP + 1
    ((i, x),) = walk(START + 2, 1)
    found = gated.detect(scene(i, [(x, 80), (240, 150)]))  # a second figure walks in
    assert len(backend.calls) == WARMUP + 2
    assert gated.stats.propagated_frames == 1
    assert sorted(found.xyxy[:, 0].tolist()) == [x, 240]


def test_max_skip_s_forces_a_refresh() -> None:
    backend = BrightBackend()
    gated = detector(0.3, backend)
    walk_in(gated, backend)  # the figure's first frame ran the model
    ran = []
    for i, x in walk(START + 1, 9):
        before = len(backend.calls)
        gated.detect(scene(i, [(x, 80)]))
        ran.append(len(backend.calls) > before)
    # 0.1 and 0.2 s after the last inference -> carried; 0.3 s -> the model runs again
    assert ran == [False, False, True] * 3
    assert gated.stats.propagated_frames == 6


def test_without_max_skip_every_moving_frame_runs_the_model() -> None:
    backend = BrightBackend()
    gated = detector(0.0, backend)
    walk_in(gated, backend)
    for i, x in walk(START + 1, 4):
        gated.detect(scene(i, [(x, 80)]))
    assert gated.stats.propagated_frames == 0 and len(backend.calls) == WARMUP + 5


def motion(mask: npt.NDArray[np.uint8], boxes: list[list[float]]) -> MotionResult:
    return MotionResult(
        mask=mask,
        boxes=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        motion_ratio=float(np.count_nonzero(mask)) / mask.size,
        downscale=1,
        warming_up=False,
    )


def test_motion_is_explained_by_coverage_of_its_moving_pixels() -> None:
    config = GatingConfig(
        mode="motion", explain_margin=0.0, explain_min_margin_px=0.0, explain_min_coverage=0.9
    )
    mask = np.zeros((100, 100), dtype=np.uint8)
    mask[10:30, 10:20] = 255  # 200 moving pixels
    moving = motion(mask, [[10, 10, 20, 30]])
    inside = np.array([[10, 10, 20, 30]], dtype=np.float32)
    assert motion_explained(moving, inside, config)
    most = np.array([[10, 10, 20, 27]], dtype=np.float32)  # 170 of 200 pixels: 0.85 < 0.9
    assert not motion_explained(moving, most, config)
    loose = config.model_copy(update={"explain_min_margin_px": 3.0})  # enlarged by 3 px: all covered
    assert motion_explained(moving, most, loose)
    assert not motion_explained(moving, np.zeros((0, 4), dtype=np.float32), config)
    assert motion_explained(motion(np.zeros((100, 100), dtype=np.uint8), []), inside, config)


def test_enlarge_grows_by_a_fraction_of_the_larger_side_with_a_floor() -> None:
    grown = enlarge(np.array([[10, 10, 30, 50], [0, 0, 4, 4]], dtype=np.float32), 0.25, 2.0)
    assert grown.tolist() == [[0, 0, 40, 60], [-2, -2, 6, 6]]


def test_flow_propagator_follows_a_textured_patch() -> None:
    flow = FlowPropagator(downscale=2)
    box = np.array([[100, 80, 130, 140]], dtype=np.float32)
    assert flow.move(box).tolist() == box.tolist()  # no previous frame yet: unchanged
    flow.step(scene(0, [(100, 80)]).image)
    flow.step(scene(1, [(106, 76)]).image)
    moved = flow.move(box)[0]
    assert np.allclose(moved, [106, 76, 136, 136], atol=1.5)


def test_flow_propagator_follows_a_textured_patch_at_other_downscales() -> None:
    box = np.array([[100, 80, 130, 140]], dtype=np.float32)
    for downscale in (1, 4):
        flow = FlowPropagator(downscale=downscale)
        flow.step(scene(0, [(100, 80)]).image)
        flow.step(scene(1, [(106, 76)]).image)
        assert np.allclose(flow.move(box)[0], [106, 76, 136, 136], atol=1.5 * downscale)


def test_the_flow_runs_at_the_configured_downscale() -> None:
    assert GatingConfig().flow_downscale == 2
    config = YoloxDetectorConfig.model_validate(
        {
            "type": "onnx-yolox",
            "model_path": "unused.onnx",
            "gating": {"mode": "motion", "max_skip_s": 0.6, "flow_downscale": 3},
        }
    )
    gated = ModelDetector(config, BrightBackend(), ["person"], "test")
    gated.detect(scene(0, []))
    assert gated._flow is not None and gated._flow._current is not None
    assert gated._flow._current.shape == (HEIGHT // 3, WIDTH // 3)
