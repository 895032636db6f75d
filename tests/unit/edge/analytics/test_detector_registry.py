"""Detector plugins: registry, config union, and the motion detector's shape heuristic."""

from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv
from pydantic import TypeAdapter, ValidationError

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors import (
    DETECTORS,
    DetectorConfig,
    MotionDetectorConfig,
    build_detector,
    detector_types,
)
from hwarang.edge.analytics.detectors.base import Detector, DetectorPluginConfig
from hwarang.edge.analytics.detectors.motion import classify_by_shape
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def test_config_union_selects_motion_and_rejects_unknown_types() -> None:
    adapter: TypeAdapter[DetectorConfig] = TypeAdapter(DetectorConfig)
    config = adapter.validate_python({"type": "motion", "min_area_px": 50})
    assert isinstance(config, MotionDetectorConfig) and config.min_area_px == 50
    with pytest.raises(ValidationError, match=r"'onnx' .*expected tags: 'motion'"):
        adapter.validate_python({"type": "onnx"})
    with pytest.raises(ValidationError, match="downscal"):
        adapter.validate_python({"type": "motion", "downscal": 2})


class OnnxConfig(DetectorPluginConfig):
    type: Literal["onnx"] = "onnx"

    def build(self) -> Detector:
        return MotionDetectorConfig(type="motion").build()


def test_unknown_type_error_lists_known_types() -> None:
    with pytest.raises(AnalyticsError, match=r"type 'onnx'; known types: motion, onnx-nanodet"):
        build_detector(OnnxConfig())
    with pytest.raises(AnalyticsError, match=r"unknown detector type 'onnx'; known types: motion"):
        DETECTORS.parse({"type": "onnx"})
    assert "motion" in detector_types() and "onnx-nanodet" in detector_types()


class OtherMotionConfig(DetectorPluginConfig):
    type: Literal["motion"] = "motion"

    def build(self) -> Detector:
        return MotionDetectorConfig(type="motion").build()


def test_a_type_cannot_be_registered_twice() -> None:
    with pytest.raises(TypeError, match="'motion' is registered twice"):
        DETECTORS.extended(OtherMotionConfig)


def test_shape_heuristic() -> None:
    boxes = np.array(
        [
            [0, 0, 20, 60],  # tall: person
            [0, 0, 120, 60],  # wide and large: vehicle
            [0, 0, 30, 10],  # wide but small: unknown
            [0, 0, 50, 50],  # square: unknown
        ],
        dtype=np.float32,
    )
    assert [int(c) for c in classify_by_shape(boxes, vehicle_min_area_px=5000)] == [
        CLASS_INDEX[ObjectClass.PERSON],
        CLASS_INDEX[ObjectClass.VEHICLE],
        CLASS_INDEX[ObjectClass.UNKNOWN],
        CLASS_INDEX[ObjectClass.UNKNOWN],
    ]


def walking_person(index: int) -> npt.NDArray[np.uint8]:
    """A 30x70 textured upright figure walking right over a noisy static background (320x240)."""
    rng = np.random.default_rng(index)
    image = np.clip(80 + rng.integers(-3, 4, size=(240, 320, 3)), 0, 255).astype(np.uint8)
    if index >= 20:
        x = 20 + 5 * (index - 20)
        blocks = np.random.default_rng(3).integers(150, 255, size=(10, 5, 1))
        image[100:170, x : x + 30] = np.repeat(np.repeat(blocks, 7, axis=0), 6, axis=1).astype(np.uint8)
    return image


@pytest.mark.parametrize("by_shape", [True, False])
def test_motion_detector_finds_a_person_shaped_mover(by_shape: bool) -> None:
    detector = build_detector(
        MotionDetectorConfig(type="motion", warmup_frames=20, min_area_px=300, classify_by_shape=by_shape)
    )
    results: list[sv.Detections] = []
    for index in range(40):
        frame = Frame(
            image=walking_person(index),
            index=index,
            pts_s=index / 10,
            wall_time=T0 + timedelta(seconds=index / 10),
        )
        results.append(detector.detect(frame))
    assert all(len(d) == 0 for d in results[:20])
    later = results[21:]
    assert all(len(d) == 1 for d in later)
    expected = ObjectClass.PERSON if by_shape else ObjectClass.UNKNOWN
    assert all(int(d.class_id[0]) == CLASS_INDEX[expected] for d in later if d.class_id is not None)
    confidences = np.concatenate([d.confidence for d in later if d.confidence is not None])
    assert len(confidences) == len(later) and np.all((confidences > 0.6) & (confidences <= 1.0))
