"""External detections: label mapping, validation with clear messages, conversion to edge events."""

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from hwarang.domain import EventMessage, ObjectClass, RuleKind
from hwarang.interop.external import (
    DEFAULT_LABEL_MAP,
    ExternalDetection,
    detection_to_event_message,
    map_label,
    normalise_label,
)
from tests.unit.interop.interop_support import JPEG, detection_body, snapshot_body


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("person", ObjectClass.PERSON),
        ("  Pedestrian ", ObjectClass.PERSON),
        ("사람", ObjectClass.PERSON),
        ("Pickup Truck", ObjectClass.UNKNOWN),
        ("truck", ObjectClass.VEHICLE),
        ("motor-bike", ObjectClass.UNKNOWN),
        ("Motorbike", ObjectClass.TWO_WHEELER),
        ("two wheeler", ObjectClass.TWO_WHEELER),
        ("Vessel", ObjectClass.BOAT),
        ("드론", ObjectClass.AIRCRAFT),
        ("UAV", ObjectClass.AIRCRAFT),
        ("wild-boar", ObjectClass.ANIMAL),
        ("fire", ObjectClass.UNKNOWN),
    ],
)
def test_labels_map_to_object_classes(label: str, expected: ObjectClass) -> None:
    assert map_label(label) is expected


def test_label_map_keys_are_normalised_and_custom_maps_work() -> None:
    assert all(normalise_label(key) == key for key in DEFAULT_LABEL_MAP)
    assert map_label("Forklift", {"forklift": ObjectClass.VEHICLE}) is ObjectClass.VEHICLE


def test_detection_becomes_an_edge_event() -> None:
    detection = ExternalDetection.model_validate(detection_body(snapshot=snapshot_body(), track_id=42))
    message = detection_to_event_message(detection)
    event = message.event
    assert event.object_class is ObjectClass.PERSON
    assert (event.camera_id, event.center_id) == ("cam-7", "ext-acme-vision")
    assert (event.sido_code, event.sigungu_code, event.track_id) == ("11", "11140", 42)
    assert event.rule is RuleKind.ZONE_INTRUSION and event.rule_name == "acme-vision-zone-intrusion"
    assert event.occurred_at == datetime(2025, 8, 18, 14, 0, tzinfo=UTC)
    assert event.geo is not None and (event.geo.lat, event.geo.lon) == (37.5636, 126.9976)
    assert event.snapshot is not None and event.snapshot.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert message.snapshot_jpeg == JPEG
    # It survives the bus/HTTP encoding an edge event goes through.
    assert EventMessage.model_validate_json(message.model_dump_json()) == message


def test_event_ids_are_stable_and_distinguish_detections() -> None:
    first = detection_to_event_message(ExternalDetection.model_validate(detection_body()))
    again = detection_to_event_message(ExternalDetection.model_validate(detection_body()))
    other_box = detection_to_event_message(
        ExternalDetection.model_validate(detection_body(bbox={"x1": 300, "y1": 20, "x2": 360, "y2": 180}))
    )
    other_vendor = detection_to_event_message(
        ExternalDetection.model_validate(detection_body(vendor="other"))
    )
    by_id = detection_to_event_message(ExternalDetection.model_validate(detection_body(detection_id="d-1")))
    by_id_moved = detection_to_event_message(
        ExternalDetection.model_validate(
            detection_body(detection_id="d-1", bbox={"x1": 1, "y1": 1, "x2": 2, "y2": 2})
        )
    )
    assert first.event.id == again.event.id
    assert len({first.event.id, other_box.event.id, other_vendor.event.id, by_id.event.id}) == 4
    assert by_id.event.id == by_id_moved.event.id
    assert 0 <= first.event.track_id < 2**31


def test_optional_fields_default_sensibly() -> None:
    body = detection_body(center_id="seoul-jung", rule="line_crossing", direction="in", exercise=True)
    del body["lat"], body["lon"]
    event = detection_to_event_message(ExternalDetection.model_validate(body)).event
    assert event.center_id == "seoul-jung" and event.geo is None and event.snapshot is None
    assert (event.rule, event.direction, event.exercise) == (RuleKind.LINE_CROSSING, "in", True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lon": None}, "lat and lon must be given together"),
        ({"sigungu_code": "26110"}, "sigungu_code 26110 is not in sido 11"),
        ({"occurred_at": "2025-08-18T23:00:00"}, "timezone"),
        ({"confidence": 1.5}, "less than or equal to 1"),
        ({"bbox": {"x1": 60, "y1": 20, "x2": 10, "y2": 180}}, "out of order"),
        ({"vendor": "Acme Vision"}, "vendor"),
        ({"label": "   "}, "label must contain more than whitespace"),
        ({"snapshot": snapshot_body(sha256="0" * 64)}, "hash to"),
        ({"snapshot": {**snapshot_body(), "data_base64": "not base64!"}}, "not valid base64"),
        ({"extra_field": 1}, "extra_field"),
    ],
)
def test_bad_detections_are_refused_with_a_clear_message(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExternalDetection.model_validate(detection_body(**changes))
