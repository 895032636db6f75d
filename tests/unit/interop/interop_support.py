"""Factories for interop tests: incidents in any state, vendor detections, the CAP test messages."""

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hwarang.domain import (
    Classification,
    GeoPoint,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
)

T0 = datetime(2025, 8, 18, 14, 0, 0, tzinfo=UTC)
CITY_HALL = GeoPoint(lat=37.56631234, lon=126.97791234)
DATA = Path(__file__).parent / "data"
OASIS_EXAMPLES = sorted(DATA.glob("cap12-*.xml"))


def make_incident(
    *,
    geo: GeoPoint | None = CITY_HALL,
    state: IncidentState = IncidentState.NEW,
    severity: Severity = Severity.HIGH,
    classification: Classification = Classification.RESTRICTED,
    object_class: ObjectClass = ObjectClass.PERSON,
    exercise: bool = False,
    updated: bool = False,
    **overrides: Any,
) -> Incident:
    """An incident at Seoul City Hall; ``updated`` makes it changed after it was created."""
    values: dict[str, Any] = {
        "id": uuid.UUID("3f2b9a1c-5d4e-4f60-8a7b-9c0d1e2f3a4b"),
        "seq": 7,
        "title": "Zone intrusion · person · North gate",
        "state": state,
        "severity": severity,
        "classification": classification,
        "object_class": object_class,
        "rule": RuleKind.ZONE_INTRUSION,
        "camera_id": "cam-1",
        "center_id": "seoul-jung",
        "sido_code": "11",
        "sigungu_code": "11140",
        "zone_id": 1,
        "geo": geo,
        "first_seen": T0,
        "last_seen": T0 + timedelta(seconds=30),
        "event_ids": (uuid.uuid4(),),
        "exercise": exercise,
        "created_at": T0 + timedelta(seconds=31),
        "updated_at": T0 + timedelta(seconds=(90 if updated else 31)),
    }
    values.update(overrides)
    return Incident(**values)


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


def detection_body(**changes: Any) -> dict[str, Any]:
    """The JSON a vendor would post."""
    body: dict[str, Any] = {
        "vendor": "acme-vision",
        "camera_id": "cam-7",
        "sido_code": "11",
        "sigungu_code": "11140",
        "occurred_at": "2025-08-18T23:00:00+09:00",
        "label": "Pedestrian",
        "confidence": 0.87,
        "bbox": {"x1": 10, "y1": 20, "x2": 60, "y2": 180},
        "lat": 37.5636,
        "lon": 126.9976,
    }
    body.update(changes)
    return body


def snapshot_body(data: bytes = JPEG, sha256: str | None = None) -> dict[str, Any]:
    """A snapshot block for ``data``."""
    return {
        "data_base64": base64.b64encode(data).decode(),
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "width": 640,
        "height": 480,
    }
