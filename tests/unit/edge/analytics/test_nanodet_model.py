"""The real NanoDet model from the store (``make models`` puts it there) on known images."""

import os
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from hwarang.domain import DetectorInfo, ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors import NanoDetDetectorConfig, build_detector, describe_detector
from hwarang.edge.frame import Frame
from hwarang.edge.models import STORE_ENV, ModelStore, ModelStoreError

REPO_ROOT = Path(__file__).resolve().parents[4]
PERSON, VEHICLE, TWO_WHEELER, ANIMAL = (
    CLASS_INDEX[c]
    for c in (ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.TWO_WHEELER, ObjectClass.ANIMAL)
)


@pytest.fixture(scope="module")
def store_root() -> Path:
    root = Path(os.environ.get(STORE_ENV) or REPO_ROOT / "var" / "models")
    try:
        ModelStore(root).get("nanodet")
    except ModelStoreError as exc:
        pytest.fail(f"the NanoDet model is not usable ({exc}); run `make models` first")
    return root


def detect(store_root: Path, shared_data: Path, name: str) -> sv.Detections:
    config = NanoDetDetectorConfig(
        type="onnx-nanodet", model="nanodet", model_store=store_root, min_confidence=0.3
    )
    raw = cv2.imread(str(shared_data / "img" / name))
    assert raw is not None
    image = raw.astype(np.uint8, copy=False)
    frame = Frame(image=image, index=0, pts_s=0.0, wall_time=datetime(2024, 5, 1, tzinfo=UTC))
    return build_detector(config).detect(frame)


def best_iou(detections: sv.Detections, class_id: int, box: tuple[float, float, float, float]) -> float:
    mine = detections.xyxy[detections.class_id == class_id]
    if len(mine) == 0:
        return 0.0
    return float(sv.box_iou_batch(np.array([box], dtype=float), mine.astype(float)).max())


def test_person_and_horse_and_dog(store_root: Path, shared_data: Path) -> None:
    found = detect(store_root, shared_data, "person.jpg")
    assert best_iou(found, PERSON, (187, 102, 274, 377)) >= 0.85
    assert best_iou(found, ANIMAL, (404, 139, 603, 349)) >= 0.85  # the horse
    assert best_iou(found, ANIMAL, (66, 265, 201, 350)) >= 0.85  # the dog
    assert len(found) == 3


def test_truck_bicycle_and_dog(store_root: Path, shared_data: Path) -> None:
    found = detect(store_root, shared_data, "dog.jpg")
    assert best_iou(found, VEHICLE, (464, 69, 681, 167)) >= 0.85  # the truck
    assert best_iou(found, TWO_WHEELER, (114, 130, 574, 482)) >= 0.85
    assert best_iou(found, ANIMAL, (129, 224, 368, 541)) >= 0.85
    assert len(found) == 3


def test_the_detector_names_its_model_and_hash(store_root: Path) -> None:
    card = ModelStore(store_root).get("nanodet").card
    config = NanoDetDetectorConfig(type="onnx-nanodet", model="nanodet", model_store=store_root)
    info = describe_detector(build_detector(config))
    assert info == DetectorInfo(kind="model", plugin="onnx-nanodet", model="nanodet", sha256=card.sha256)
    assert card.source_files is not None and set(card.source_files) == {"nanodet.json", "nanodet.bin"}
    assert card.labels is not None and len(card.labels) == 80 and card.labels[0] == "person"
    assert card.licence is not None and "Apache-2.0" in card.licence and "MIT" in card.licence
