"""Events: what an edge rule reports to the hub."""

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field, field_serializer, field_validator, model_validator

from hwarang.domain.base import DomainModel, ValueModel
from hwarang.domain.detection import BoundingBox
from hwarang.domain.enums import ObjectClass, RuleKind
from hwarang.domain.geopoint import GeoPoint
from hwarang.domain.text import StoreText

_EVENT_NAMESPACE = uuid.UUID("6f1c8e0a-4b7e-5d0e-9a3c-68776172616e")


def stable_event_id(camera_id: str, rule_name: str, track_id: int, first_seen: datetime) -> uuid.UUID:
    """The same rule firing on the same track always yields the same id (so replays de-duplicate)."""
    key = f"{camera_id}|{rule_name}|{track_id}|{first_seen.isoformat()}"
    return uuid.uuid5(_EVENT_NAMESPACE, key)


class SnapshotRef(ValueModel):
    """A JPEG snapshot stored by the SHA-256 of its bytes."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: StoreText = "image/jpeg"
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class ClipRef(ValueModel):
    """An event clip: MP4 (H.264, fast-start) stored by the SHA-256 of its bytes.

    ``start`` and ``end`` are the wall-clock times of its first and last frame; the clip starts on the
    keyframe before the event minus the camera's ``pre_s`` and runs to ``post_s`` after it.
    """

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str = "video/mp4"
    start: AwareDatetime
    end: AwareDatetime
    duration_s: float = Field(ge=0.0, description="Seconds from the first frame to the end of the last.")
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    size: int = Field(gt=0, description="Bytes of the MP4 file.")


class DetectorInfo(ValueModel):
    """Which detector produced an event: a trained model, or the motion-only shape guess."""

    kind: Literal["model", "motion"] = Field(
        description="'model': a trained detector named the class; 'motion': the class is a shape guess."
    )
    plugin: StoreText | None = Field(default=None, description="Detector plugin type, e.g. 'onnx-nanodet'.")
    model: StoreText | None = Field(default=None, description="Model name in the edge's model store.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the model file."
    )


class Event(DomainModel):
    """A rule fired on a tracked object at a camera."""

    id: uuid.UUID
    camera_id: StoreText = Field(min_length=1, max_length=64)
    center_id: StoreText = Field(min_length=1, max_length=64)
    sido_code: str = Field(pattern=r"^\d{2}$")
    sigungu_code: str = Field(pattern=r"^\d{5}$")
    occurred_at: AwareDatetime
    object_class: ObjectClass
    confidence: float = Field(ge=0.0, le=1.0)
    box: BoundingBox
    track_id: int = Field(ge=-(2**63), le=2**63 - 1, description="Tracker id (a 64-bit integer).")
    rule: RuleKind
    rule_name: StoreText = Field(
        min_length=1, max_length=128, description="The configured rule's name, e.g. 'fence-north'."
    )
    direction: StoreText | None = Field(default=None, description="Line crossing direction ('in' or 'out').")
    dwell_s: float | None = Field(
        default=None, ge=0.0, description="Seconds in zone, when the rule measures it."
    )
    geo: GeoPoint | None = None
    snapshot: SnapshotRef | None = None
    clip: ClipRef | None = Field(
        default=None, description="The event's clip, once the edge has cut it (it arrives after the event)."
    )
    frame_index: int = Field(ge=0, le=2**63 - 1)
    exercise: bool = Field(default=False, description="True for events caused by an exercise inject.")
    detector: DetectorInfo | None = Field(
        default=None, description="The detector that saw the object (absent from older edges)."
    )


class EventSignature(ValueModel):
    """An edge's Ed25519 signature over the event's canonical JSON and its snapshot's SHA-256."""

    center_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="The signing center.")
    algorithm: Literal["ed25519"] = "ed25519"
    value: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$", description="Base64 of the 64-byte signature.")


class EventMessage(DomainModel):
    """What travels on the bus: an event, optionally its snapshot bytes, and the edge's signature."""

    event: Event
    snapshot_jpeg: bytes | None = None
    signature: EventSignature | None = Field(
        default=None, description="Set by the edge (docs/security.md); hubs with registered keys require it."
    )

    @field_serializer("snapshot_jpeg", when_used="json")
    def _encode_snapshot(self, value: bytes | None) -> str | None:
        return None if value is None else base64.b64encode(value).decode("ascii")

    @field_validator("snapshot_jpeg", mode="before")
    @classmethod
    def _decode_snapshot(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise ValueError(f"snapshot_jpeg is not valid base64: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _check_snapshot(self) -> "EventMessage":
        ref = self.event.snapshot
        if self.snapshot_jpeg is not None:
            if ref is None:
                raise ValueError("snapshot bytes sent without event.snapshot reference")
            digest = hashlib.sha256(self.snapshot_jpeg).hexdigest()
            if digest != ref.sha256:
                raise ValueError(
                    f"snapshot bytes hash {digest} does not match event.snapshot.sha256 {ref.sha256}"
                )
        return self


class ClipManifest(DomainModel):
    """What travels with every chunk of a clip on the bus: the clip and the events it belongs to."""

    camera_id: str
    center_id: str
    event_ids: list[uuid.UUID] = Field(min_length=1, description="Events this clip shows (one cut).")
    clip: ClipRef
