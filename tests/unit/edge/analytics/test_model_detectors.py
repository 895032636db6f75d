"""Model detector plugins on real images: YOLOX (ONNX Runtime), OpenVINO, Ultralytics decoding."""

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import supervision as sv
from onnx import TensorProto, helper

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors import (
    OpenVinoDetectorConfig,
    YoloDetectorConfig,
    YoloxDetectorConfig,
    build_detector,
)
from hwarang.edge.analytics.detectors.labels import COCO80_LABELS, label_lookup
from hwarang.edge.analytics.detectors.onnx_runtime import cached_sessions, clear_session_cache
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame

PERSON, VEHICLE, TWO_WHEELER, ANIMAL, UNKNOWN = (
    CLASS_INDEX[c]
    for c in (
        ObjectClass.PERSON,
        ObjectClass.VEHICLE,
        ObjectClass.TWO_WHEELER,
        ObjectClass.ANIMAL,
        ObjectClass.UNKNOWN,
    )
)


def frame_of(image: np.ndarray) -> Frame:
    return Frame(image=image, index=0, pts_s=0.0, wall_time=datetime(2024, 5, 1, tzinfo=UTC))


def image(shared_data: Path, name: str) -> Frame:
    loaded = cv2.imread(str(shared_data / "img" / name))
    assert loaded is not None
    return frame_of(loaded)


def found(detections: sv.Detections, class_id: int, box: tuple[float, float, float, float]) -> float:
    """Best IoU of a detection of ``class_id`` with ``box`` (0 if none)."""
    mine = detections.xyxy[detections.class_id == class_id]
    if len(mine) == 0:
        return 0.0
    return float(sv.box_iou_batch(np.array([box], dtype=float), mine.astype(float)).max())


@pytest.fixture(scope="module")
def yolox_path(shared_data: Path) -> Path:
    return shared_data / "models" / "yolox_nano.onnx"


def yolox(path: Path, **settings: object) -> object:
    return build_detector(
        YoloxDetectorConfig.model_validate({"type": "onnx-yolox", "model_path": path, **settings})
    )


# Positions checked by eye on the images: the walker, the white horse and the dog in person.jpg; the
# dog, the bicycle and the pick-up truck in dog.jpg.
def test_yolox_finds_person_animals_vehicle_and_bicycle(shared_data: Path, yolox_path: Path) -> None:
    detector = yolox(yolox_path)
    people = detector.detect(image(shared_data, "person.jpg"))  # type: ignore[attr-defined]
    assert found(people, PERSON, (188, 97, 276, 373)) > 0.8
    assert found(people, ANIMAL, (403, 137, 602, 344)) > 0.8  # horse
    assert found(people, ANIMAL, (60, 263, 201, 350)) > 0.7  # dog
    assert PERSON not in set(people.class_id[people.xyxy[:, 0] > 380])
    street = detector.detect(image(shared_data, "dog.jpg"))  # type: ignore[attr-defined]
    assert found(street, VEHICLE, (466, 78, 692, 171)) > 0.8
    assert found(street, TWO_WHEELER, (51, 137, 572, 423)) > 0.7
    assert found(street, ANIMAL, (132, 206, 325, 543)) > 0.8
    assert np.sum(street.class_id == VEHICLE) == 1  # car and truck on one pick-up are merged
    assert np.all(street.confidence >= 0.3)


def test_class_map_filters_and_thresholds(shared_data: Path, yolox_path: Path) -> None:
    frame = image(shared_data, "dog.jpg")
    only_animals = yolox(yolox_path, class_map={"dog": "animal"}).detect(frame)  # type: ignore[attr-defined]
    assert set(only_animals.class_id) == {ANIMAL}
    rest_unknown = yolox(yolox_path, class_map={"dog": "animal"}, unmapped="unknown").detect(frame)  # type: ignore[attr-defined]
    assert set(rest_unknown.class_id) == {ANIMAL, UNKNOWN}
    strict = yolox(yolox_path, min_confidence=0.85).detect(frame)  # type: ignore[attr-defined]
    assert len(strict) >= 1 and np.all(strict.confidence >= 0.85)
    big = yolox(yolox_path, min_box_px=150).detect(frame)  # type: ignore[attr-defined]
    sides = np.minimum(big.xyxy[:, 2] - big.xyxy[:, 0], big.xyxy[:, 3] - big.xyxy[:, 1])
    assert len(big) >= 1 and np.all(sides >= 150) and VEHICLE not in set(big.class_id)
    with pytest.raises(AnalyticsError, match=r"labels the model does not have: \['dgo'\]"):
        label_lookup(COCO80_LABELS, {"dgo": ObjectClass.ANIMAL}, unmapped_unknown=False)


def test_sessions_are_shared_between_cameras(yolox_path: Path) -> None:
    clear_session_cache()
    first, second = yolox(yolox_path), yolox(yolox_path)
    assert first is not second and cached_sessions() == 1
    yolox(yolox_path, intra_op_threads=1)
    assert cached_sessions() == 2


def test_a_file_that_is_not_a_model_gives_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "camera.onnx"
    bogus.write_text("this is a camera list, not a network\n")
    with pytest.raises(
        AnalyticsError, match=r"onnx-yolox detector: .*camera\.onnx is not a loadable ONNX model"
    ):
        yolox(bogus)
    with pytest.raises(AnalyticsError, match=r"model file not found: .*missing\.onnx"):
        yolox(tmp_path / "missing.onnx")


def test_openvino_person_vehicle_bike(shared_data: Path, vtest_path: Path) -> None:
    xml = (
        shared_data
        / "models/omz/person-vehicle-bike-detection-2002/FP16/person-vehicle-bike-detection-2002.xml"
    )
    config = OpenVinoDetectorConfig(type="openvino", model_path=xml, labels=["vehicle", "person", "bike"])
    detector = build_detector(config)
    people = detector.detect(image(shared_data, "person.jpg"))
    assert found(people, PERSON, (188, 97, 276, 373)) > 0.8
    capture = cv2.VideoCapture(str(vtest_path))
    ok, first = capture.read()
    capture.release()
    assert ok
    scene = detector.detect(frame_of(first))
    assert np.sum(scene.class_id == PERSON) >= 3  # pedestrians on the plaza
    assert found(scene, VEHICLE, (652, 44, 724, 101)) > 0.6  # the parked car, top right
    with pytest.raises(AnalyticsError, match="give `labels`"):
        build_detector(OpenVinoDetectorConfig(type="openvino", model_path=xml))


def tiny_yolo_model(path: Path, rows: list[list[float]]) -> None:
    """An ONNX graph with a 1x3x64x64 input whose output is the constant ``[1, 4 + 2, N]`` ``rows``."""
    values = np.array(rows, dtype=np.float32).T[None]
    constant = helper.make_node(
        "Constant",
        [],
        ["output0"],
        value=helper.make_tensor("boxes", TensorProto.FLOAT, values.shape, values.flatten().tolist()),
    )
    graph = helper.make_graph(
        [constant],
        "tiny-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(values.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    entry = model.metadata_props.add()
    entry.key, entry.value = "names", "{0: 'person', 1: 'car'}"
    onnx.save(model, str(path))


def test_ultralytics_decoding_runs_through_onnxruntime(tmp_path: Path) -> None:
    path = tmp_path / "tiny.onnx"
    tiny_yolo_model(
        path,
        [
            [32, 32, 20, 10, 0.9, 0.05],  # person, centred
            [33, 32, 20, 10, 0.6, 0.10],  # duplicate of it: suppressed
            [10, 40, 8, 8, 0.02, 0.7],  # car
            [50, 20, 4, 4, 0.1, 0.1],  # too weak
        ],
    )
    detector = build_detector(YoloDetectorConfig(type="onnx-yolo", model_path=path))
    # A 128x64 image is scaled by 0.5 to 64x32 and centred with 16 px of padding above and below.
    result = detector.detect(frame_of(np.zeros((64, 128, 3), dtype=np.uint8)))
    assert result.confidence is not None and result.class_id is not None
    order = np.argsort(-result.confidence)
    assert result.class_id[order].tolist() == [PERSON, VEHICLE]
    np.testing.assert_allclose(result.xyxy[order[0]], [44, 22, 84, 42], atol=0.01)
    np.testing.assert_allclose(result.xyxy[order[1]], [12, 40, 28, 56], atol=0.01)
