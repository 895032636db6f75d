"""Motion-gated detection: crops around motion, skipped still frames, periodic full frames."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from hwarang.edge.analytics.detectors import GatingConfig, ModelDetector, YoloxDetectorConfig, build_detector
from hwarang.edge.analytics.detectors.gating import outside_all, plan_rois
from hwarang.edge.analytics.detectors.inference import RawDetections
from hwarang.edge.frame import Frame

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def test_plan_rois_pads_merges_and_falls_back_to_full_frame() -> None:
    config = GatingConfig(mode="motion", roi_padding=0.5, roi_min_padding_px=10, max_rois=2)
    rois = plan_rois(
        np.array([[100, 100, 120, 140], [130, 100, 150, 140]], dtype=np.float32), 640, 480, config
    )
    assert rois is not None and rois.tolist() == [[80, 80, 170, 160]]  # padded by 20, then merged
    corner = plan_rois(np.array([[0, 0, 10, 10]], dtype=np.float32), 640, 480, config)
    assert corner is not None and corner.tolist() == [[0, 0, 20, 20]]  # clipped to the frame
    three = np.array([[0, 0, 10, 10], [300, 300, 310, 310], [600, 0, 610, 10]], dtype=np.float32)
    assert plan_rois(three, 640, 480, config) is None  # more crops than max_rois
    huge = np.array([[0, 0, 500, 400]], dtype=np.float32)
    assert plan_rois(huge, 640, 480, config) is None  # crops cover more than half the frame
    inside = np.array([[90, 90, 100, 100], [300, 300, 320, 320]], dtype=np.float32)
    assert outside_all(inside, np.array([[80, 80, 170, 160]])).tolist() == [False, True]


class RecordingBackend:
    """Finds one 'person' wherever the frame is bright; records the image sizes it was given."""

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
            ys, xs = np.nonzero(image[:, :, 0] > 128)
            if len(xs) == 0:
                results.append(RawDetections.empty())
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=np.float32)
            results.append(RawDetections(box, np.array([0.9], dtype=np.float32), np.array([0])))
        return results


def scene(index: int, x: int | None) -> Frame:
    image = np.full((240, 320, 3), 40, dtype=np.uint8)
    image[100:130, 250:270] = 220  # a parked object that never moves
    if x is not None:
        image[60:100, x : x + 16] = 220
    return Frame(image=image, index=index, pts_s=index / 10, wall_time=T0)


def test_gated_detector_skips_still_frames_crops_motion_and_refreshes() -> None:
    backend = RecordingBackend()
    config = YoloxDetectorConfig.model_validate(
        {
            "type": "onnx-yolox",
            "model_path": "unused.onnx",
            "gating": {"mode": "motion", "full_frame_interval_s": 2.0, "motion": {"warmup_frames": 3}},
        }
    )
    detector = ModelDetector(config, backend, ["person"], "test")
    for i in range(3):  # warm-up: full frames
        assert len(detector.detect(scene(i, None))) == 1
    for i in range(3, 10):  # nothing moves: no inference, the parked object is carried
        carried = detector.detect(scene(i, None))
        assert len(carried) == 1 and carried.xyxy[0].tolist() == [250, 100, 270, 130]
    assert detector.stats.skipped_frames == 7 and len(backend.calls) == 3
    for i, x in zip(range(10, 16), range(20, 80, 10), strict=True):  # a figure walks in from the left
        moving = detector.detect(scene(i, x))
    assert detector.stats.roi_inferences >= 4 and detector.stats.rois == detector.stats.roi_inferences
    assert max(w for w, _ in backend.calls[3:]) < 320  # crops, not the whole frame
    xs = sorted(moving.xyxy[:, 0].tolist())
    assert len(moving) == 2 and xs[1] == 250 and 60 <= xs[0] <= 72  # fresh figure + carried parked one
    calls = len(backend.calls)
    detector.detect(scene(23, 70))  # 2 s after the last full frame (0.2 s): whole frame again
    assert backend.calls[calls] == (320, 240)
    assert detector.stats.full_frame_inferences == 4 and detector.stats.frames == 17


@pytest.mark.parametrize("mode", ["none", "motion"])
def test_gated_and_ungated_yolox_on_vtest(mode: str, shared_data: Path, vtest_path: Path) -> None:
    config = YoloxDetectorConfig.model_validate(
        {
            "type": "onnx-yolox",
            "model_path": shared_data / "models" / "yolox_nano.onnx",
            "gating": {"mode": mode, "max_rois": 3, "motion": {"warmup_frames": 10}},
        }
    )
    detector = build_detector(config)
    assert isinstance(detector, ModelDetector)
    capture = cv2.VideoCapture(str(vtest_path))
    counts = []
    try:
        for index in range(60):
            ok, raw = capture.read()
            assert ok and raw is not None
            image = raw.astype(np.uint8, copy=False)
            counts.append(
                len(detector.detect(Frame(image=image, index=index, pts_s=index / 10, wall_time=T0)))
            )
    finally:
        capture.release()
    stats = detector.stats
    assert min(counts[40:]) >= 3  # pedestrians are found on every frame either way
    if mode == "none":
        assert stats.full_frame_inferences == stats.inferences == 60 and stats.rois == 0
    else:
        assert stats.full_frame_inferences < 45 and stats.roi_inferences > 0
