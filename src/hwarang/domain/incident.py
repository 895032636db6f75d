"""Incidents: what the situation room works on."""

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field

from hwarang.domain.base import DomainModel, ValueModel
from hwarang.domain.enums import Classification, IncidentState, ObjectClass, RuleKind, Severity
from hwarang.domain.geopoint import GeoPoint


class SeverityReasonCode(StrEnum):
    """Why an incident has its severity; the page renders each code in the reader's language."""

    DEFAULT = "default"
    """No site rule matched: the built-in default for the rule kind and class (params: rule, class)."""
    SITE_RULE = "site_rule"
    """A site severity rule matched (params: name, severity)."""
    AREA = "area"
    """The event lies in a named area (params: name, kind)."""
    ORDINARY_AREA = "ordinary_area"
    """The event lies in no named area."""
    NIGHT = "night"
    """A rule for the night window matched."""
    DAY = "day"
    """A rule for the day matched."""
    LOW_CONFIDENCE = "low_confidence"
    """The detector was unsure: one level lower (params: confidence, threshold)."""
    MOTION_ONLY = "motion_only"
    """A motion-only detector: the class is a shape guess; severity capped (params: cap)."""
    EXERCISE = "exercise"
    """An exercise inject (params: cap, when exercises are capped)."""
    GEOFENCE = "geofence"
    """A drone inside a protected site's geofence (params: site)."""
    DRONE_COOPERATIVE = "drone_cooperative"
    """A drone seen by a camera matches a Remote ID / MAVLink track (params: track, distance_m)."""
    DRONE_NON_COOPERATIVE = "drone_non_cooperative"
    """A drone seen by a camera with no Remote ID near it: one level higher."""


class SeverityReason(ValueModel):
    """One reason of a severity decision: a code and its parameters (names, numbers as text)."""

    code: SeverityReasonCode
    params: dict[str, str] = Field(default_factory=dict)


class Incident(DomainModel):
    """One situation, built from one or more events."""

    id: uuid.UUID
    seq: int = Field(ge=0, description="Hub-wide change sequence number of the last update.")
    title: str
    state: IncidentState = IncidentState.NEW
    severity: Severity = Severity.MEDIUM
    classification: Classification = Classification.RESTRICTED
    object_class: ObjectClass
    rule: RuleKind
    camera_id: str
    center_id: str
    sido_code: str
    sigungu_code: str
    zone_id: int | None = None
    geo: GeoPoint | None = None
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    event_ids: tuple[uuid.UUID, ...] = Field(
        description="Ids of its events, oldest first; empty once the incident was merged into another."
    )
    snapshot_sha256: str | None = None
    exercise: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime
    shared_with: tuple[str, ...] = Field(
        default=(),
        description="Agency kinds or agency codes this incident is shared with, beyond its owners.",
    )
    merged_into: uuid.UUID | None = Field(
        default=None, description="Set when this incident was merged into another one."
    )
    assignee: str | None = Field(default=None, description="Username of the operator handling it.")
    acknowledged_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = Field(
        default=None, description="When it reached resolved or false_alarm."
    )
    rule_name: str | None = Field(
        default=None, description="The configured rule's name of its first event, e.g. 'fence-north'."
    )
    camera_name: str | None = Field(default=None, description="Its camera's name when it was opened.")
    severity_reasons: tuple[SeverityReason, ...] = Field(
        default=(), description="Why it has its severity (the decision of the event that set it)."
    )
    motion_only: bool = Field(
        default=False,
        description="Every event whose detector is known came from a motion-only detector: the class "
        "is a shape guess.",
    )
    detector_models: tuple[str, ...] = Field(
        default=(), description="Names of the detector models that produced its events."
    )
