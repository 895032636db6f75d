"""The built-in detector of a camera: NanoDet, motion-gated, with a loud motion-only fallback."""

import logging
from pathlib import Path

import pytest

from hwarang.edge.analytics.detectors import (
    ModelDetector,
    MotionDetectorConfig,
    NanoDetDetectorConfig,
    build_detector,
    describe_detector,
)
from hwarang.edge.analytics.detectors.motion import MotionDetector
from hwarang.edge.config import CameraConfig

STORE = Path(__file__).resolve().parents[3] / "var" / "models"


def _camera(**changes: object) -> CameraConfig:
    data: dict[str, object] = {
        "id": "cam-1",
        "name": "gate",
        "position": {"lat": 37.5, "lon": 127.0},
        "source": {"type": "synthetic"},
    }
    return CameraConfig.model_validate({**data, **changes})


def test_a_camera_without_a_detector_gets_motion_gated_nanodet() -> None:
    detector = _camera().detector
    assert isinstance(detector, NanoDetDetectorConfig)
    assert (detector.type, detector.model, detector.gating.mode, detector.fallback) == (
        "onnx-nanodet",
        "nanodet",
        "motion",
        "motion",
    )
    assert isinstance(_camera(detector={"type": "motion"}).detector, MotionDetectorConfig)


def test_without_the_model_the_default_falls_back_to_motion_only_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    default = _camera().detector
    assert isinstance(default, NanoDetDetectorConfig)
    empty_store = default.model_copy(update={"model_store": tmp_path})
    with caplog.at_level(logging.WARNING):
        detector = build_detector(empty_store)
    assert isinstance(detector, MotionDetector)
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert "onnx-nanodet detector" in warning.getMessage()
    assert "FALLING BACK to the motion-only detector" in warning.getMessage()


@pytest.mark.skipif(not (STORE / "nanodet").is_dir(), reason="needs `make models` (var/models/nanodet)")
def test_with_the_model_the_default_is_the_real_detector() -> None:
    default = _camera().detector
    assert isinstance(default, NanoDetDetectorConfig)
    detector = build_detector(default.model_copy(update={"model_store": STORE}))
    assert isinstance(detector, ModelDetector)
    info = describe_detector(detector)
    assert info is not None and info.plugin == "onnx-nanodet" and info.model == "nanodet"
