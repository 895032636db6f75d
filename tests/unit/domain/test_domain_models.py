"""Domain models: versioned, immutable, strictly validated, with errors that say what is wrong."""

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hwarang.domain import (
    SCHEMA_VERSION,
    BoundingBox,
    Calibration,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    SnapshotRef,
    stable_event_id,
)

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"


def _event(**changes: object) -> Event:
    base: dict[str, object] = {
        "id": uuid.uuid4(),
        "camera_id": "cam-1",
        "center_id": "center-1",
        "sido_code": "11",
        "sigungu_code": "11140",
        "occurred_at": datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        "object_class": ObjectClass.PERSON,
        "confidence": 0.9,
        "box": BoundingBox(x1=1, y1=2, x2=30, y2=80),
        "track_id": 7,
        "rule": RuleKind.ZONE_INTRUSION,
        "rule_name": "fence",
        "frame_index": 12,
        "snapshot": SnapshotRef(sha256=hashlib.sha256(JPEG).hexdigest(), width=10, height=10),
    }
    base.update(changes)
    return Event.model_validate(base)


def test_event_carries_schema_version_and_is_frozen() -> None:
    event = _event()
    assert event.schema_version == SCHEMA_VERSION
    with pytest.raises(ValidationError):
        event.__setattr__("camera_id", "other")  # pydantic's own assignment, which must refuse


def test_event_rejects_naive_time_unknown_fields_and_bad_codes() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _event(occurred_at=datetime(2026, 11, 24, 3, 0))
    with pytest.raises(ValidationError, match="colour"):
        Event.model_validate({**_event().model_dump(), "colour": "red"})
    with pytest.raises(ValidationError, match="sigungu_code"):
        _event(sigungu_code="1114")


def test_event_refuses_what_a_store_cannot_hold() -> None:
    with pytest.raises(ValidationError, match=r"rule_name[\s\S]*U\+0000 at position 5"):
        _event(rule_name="fence\x00north")
    with pytest.raises(ValidationError, match=r"camera_id[\s\S]*U\+001B"):
        _event(camera_id="cam\x1b[31m")
    with pytest.raises(ValidationError, match="track_id"):
        _event(track_id=2**64)
    with pytest.raises(ValidationError, match="frame_index"):
        _event(frame_index=2**63)
    payload = _event().model_dump_json().replace('"fence"', '"fen\\u0000ce"')
    with pytest.raises(ValidationError, match="a store cannot hold it"):
        Event.model_validate_json(payload)
    assert _event(rule_name="울타리 북쪽").rule_name == "울타리 북쪽", "non-ASCII text is fine"


def test_stable_event_id_is_deterministic() -> None:
    at = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert stable_event_id("cam", "fence", 3, at) == stable_event_id("cam", "fence", 3, at)
    assert stable_event_id("cam", "fence", 3, at) != stable_event_id("cam", "fence", 4, at)


def test_event_message_round_trips_snapshot_as_base64() -> None:
    message = EventMessage(event=_event(), snapshot_jpeg=JPEG)
    text = message.model_dump_json()
    assert "fake-jpeg" not in text
    assert EventMessage.model_validate_json(text).snapshot_jpeg == JPEG


def test_event_message_refuses_snapshot_with_wrong_hash_or_without_reference() -> None:
    with pytest.raises(ValidationError, match=r"does not match event\.snapshot\.sha256"):
        EventMessage(event=_event(), snapshot_jpeg=JPEG + b"tampered")
    with pytest.raises(ValidationError, match=r"without event\.snapshot reference"):
        EventMessage(event=_event(snapshot=None), snapshot_jpeg=JPEG)
    with pytest.raises(ValidationError, match="not valid base64"):
        EventMessage.model_validate({"event": _event().model_dump(mode="json"), "snapshot_jpeg": "***"})


def test_box_and_calibration_validation() -> None:
    with pytest.raises(ValidationError, match="corners out of order"):
        BoundingBox(x1=10, y1=0, x2=5, y2=5)
    assert BoundingBox(x1=0, y1=0, x2=10, y2=20).bottom_center == (5.0, 20.0)
    points = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))
    geo = tuple(GeoPoint(lat=37.0, lon=127.0 + i / 1000) for i in range(3))
    with pytest.raises(ValidationError, match="at least 4 point pairs"):
        Calibration(image_points=points, geo_points=geo)
    with pytest.raises(ValidationError, match="one geo point per image point"):
        Calibration(image_points=(*points, (0.0, 1.0)), geo_points=geo)
    with pytest.raises(ValidationError):
        GeoPoint(lat=91.0, lon=0.0)
