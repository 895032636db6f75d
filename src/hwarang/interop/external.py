"""External detections: other vendors' analytics, posted to the hub and ingested like edge events.

An :class:`ExternalDetection` becomes an :class:`~hwarang.domain.EventMessage`, so it passes the same
validation, de-duplication and incident creation as an edge event. The vendor's class label is mapped
to Hwarang's :class:`~hwarang.domain.ObjectClass` by ``DEFAULT_LABEL_MAP`` (case-insensitive;
spaces and hyphens count as underscores); an unknown label becomes ``unknown``.
"""

import base64
import binascii
import hashlib
import uuid
from collections.abc import Mapping

from pydantic import AwareDatetime, Field, field_validator, model_validator

from hwarang.domain import (
    BoundingBox,
    DomainModel,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    SnapshotRef,
    stable_event_id,
)
from hwarang.domain.base import ValueModel

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_SNAPSHOT_BYTES = 5 * 1024 * 1024

_LABELS: dict[ObjectClass, tuple[str, ...]] = {
    ObjectClass.PERSON: ("person", "people", "pedestrian", "human", "intruder", "사람", "보행자", "인물"),
    ObjectClass.VEHICLE: (
        "vehicle", "car", "truck", "bus", "van", "suv", "pickup", "trailer", "train",
        "차량", "자동차", "승용차", "트럭", "버스",
    ),
    ObjectClass.TWO_WHEELER: (
        "two_wheeler", "motorcycle", "motorbike", "bicycle", "bike", "scooter", "cyclist",
        "오토바이", "이륜차", "자전거",
    ),
    ObjectClass.BOAT: ("boat", "ship", "vessel", "선박", "보트", "배"),
    ObjectClass.AIRCRAFT: (
        "aircraft", "airplane", "aeroplane", "plane", "helicopter", "drone", "uav",
        "항공기", "헬기", "드론",
    ),
    ObjectClass.ANIMAL: (
        "animal", "dog", "cat", "bird", "horse", "sheep", "cow", "deer", "boar", "wild_boar",
        "동물", "개", "고양이", "새", "멧돼지", "고라니",
    ),
}  # fmt: skip
DEFAULT_LABEL_MAP: Mapping[str, ObjectClass] = {
    label: object_class for object_class, labels in _LABELS.items() for label in labels
}
"""Normalised vendor label -> Hwarang object class."""


def normalise_label(label: str) -> str:
    """Lower case, trimmed, with spaces and hyphens as underscores."""
    return "_".join(label.strip().lower().replace("-", " ").split())


def map_label(label: str, mapping: Mapping[str, ObjectClass] = DEFAULT_LABEL_MAP) -> ObjectClass:
    """The object class of a vendor label; ``unknown`` when the mapping does not know it."""
    return mapping.get(normalise_label(label), ObjectClass.UNKNOWN)


class ExternalSnapshot(ValueModel):
    """A JPEG the vendor's analytic took, base64 encoded, with the SHA-256 of its bytes."""

    data_base64: str = Field(
        min_length=4, max_length=(MAX_SNAPSHOT_BYTES * 4) // 3 + 4, description="The JPEG, base64 encoded."
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the decoded bytes.")
    width: int = Field(gt=0, description="Image width in pixels.")
    height: int = Field(gt=0, description="Image height in pixels.")
    content_type: str = Field(default="image/jpeg", pattern=r"^image/jpeg$")

    def decoded(self) -> bytes:
        """The image bytes (validated on construction)."""
        return base64.b64decode(self.data_base64, validate=True)

    @model_validator(mode="after")
    def _check_bytes(self) -> "ExternalSnapshot":
        try:
            data = base64.b64decode(self.data_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"data_base64 is not valid base64: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(f"the snapshot bytes hash to {digest}, but sha256 says {self.sha256}")
        return self


class ExternalDetection(DomainModel):
    """One detection reported by another vendor's analytic (``POST /api/v1/detections``)."""

    vendor: str = Field(pattern=_SLUG, description="Who reports it, e.g. 'acme-vision'.")
    detection_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The vendor's id of the detection; makes re-posting it idempotent when given.",
    )
    camera_id: str = Field(pattern=_SLUG, description="Hwarang camera id the detection comes from.")
    center_id: str | None = Field(
        default=None,
        pattern=_SLUG,
        description="Control center of the camera; 'ext-<vendor>' when not given.",
    )
    sido_code: str = Field(pattern=r"^\d{2}$", description="2-digit sido code.")
    sigungu_code: str = Field(pattern=r"^\d{5}$", description="5-digit sigungu code within the sido.")
    occurred_at: AwareDatetime = Field(description="When the object was seen, with a UTC offset.")
    label: str = Field(min_length=1, max_length=64, description="The vendor's class label, e.g. 'person'.")
    confidence: float = Field(ge=0.0, le=1.0)
    bbox: BoundingBox = Field(description="Pixel box in the camera image.")
    lat: float | None = Field(default=None, ge=-90.0, le=90.0, description="WGS84 latitude, if known.")
    lon: float | None = Field(default=None, ge=-180.0, le=180.0, description="WGS84 longitude, if known.")
    rule: RuleKind = Field(default=RuleKind.ZONE_INTRUSION, description="Which kind of rule fired.")
    rule_name: str | None = Field(
        default=None, min_length=1, max_length=64, description="The vendor's rule name; '<vendor>-<rule>'."
    )
    track_id: int | None = Field(default=None, ge=0, description="The vendor's track id, if it tracks.")
    direction: str | None = Field(default=None, pattern=r"^(in|out)$")
    dwell_s: float | None = Field(default=None, ge=0.0)
    exercise: bool = Field(default=False, description="True when the detection is part of an exercise.")
    snapshot: ExternalSnapshot | None = None

    @field_validator("label")
    @classmethod
    def _check_label(cls, value: str) -> str:
        if not normalise_label(value):
            raise ValueError("label must contain more than whitespace")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> "ExternalDetection":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if not self.sigungu_code.startswith(self.sido_code):
            raise ValueError(f"sigungu_code {self.sigungu_code} is not in sido {self.sido_code}")
        return self


def _track_id(detection: ExternalDetection) -> int:
    """The vendor's track id, else a stable 31-bit number from the detection id or its box and label."""
    if detection.track_id is not None:
        return detection.track_id
    box = detection.bbox
    key = detection.detection_id or f"{normalise_label(detection.label)}|{box.x1}|{box.y1}|{box.x2}|{box.y2}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") >> 1


def detection_to_event_message(
    detection: ExternalDetection, mapping: Mapping[str, ObjectClass] = DEFAULT_LABEL_MAP
) -> EventMessage:
    """The event message an edge would have sent for ``detection`` (stable id: re-posts de-duplicate)."""
    rule_name = detection.rule_name or f"{detection.vendor}-{detection.rule.value.replace('_', '-')}"
    track_id = _track_id(detection)
    snapshot_ref = None
    data = None
    if detection.snapshot is not None:
        data = detection.snapshot.decoded()
        snapshot_ref = SnapshotRef(
            sha256=detection.snapshot.sha256,
            content_type=detection.snapshot.content_type,
            width=detection.snapshot.width,
            height=detection.snapshot.height,
        )
    geo = None
    if detection.lat is not None and detection.lon is not None:
        geo = GeoPoint(lat=detection.lat, lon=detection.lon)
    event = Event(
        id=_event_id(detection, rule_name, track_id),
        camera_id=detection.camera_id,
        center_id=detection.center_id or f"ext-{detection.vendor}",
        sido_code=detection.sido_code,
        sigungu_code=detection.sigungu_code,
        occurred_at=detection.occurred_at,
        object_class=map_label(detection.label, mapping),
        confidence=detection.confidence,
        box=detection.bbox,
        track_id=track_id,
        rule=detection.rule,
        rule_name=rule_name,
        direction=detection.direction,
        dwell_s=detection.dwell_s,
        geo=geo,
        snapshot=snapshot_ref,
        frame_index=0,
        exercise=detection.exercise,
    )
    return EventMessage(event=event, snapshot_jpeg=data)


def _event_id(detection: ExternalDetection, rule_name: str, track_id: int) -> uuid.UUID:
    return stable_event_id(
        detection.camera_id, f"{detection.vendor}/{rule_name}", track_id, detection.occurred_at
    )
