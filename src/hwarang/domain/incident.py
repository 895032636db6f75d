"""Incidents: what the situation room works on."""

import uuid

from pydantic import AwareDatetime, Field

from hwarang.domain.base import DomainModel
from hwarang.domain.enums import Classification, IncidentState, ObjectClass, RuleKind, Severity
from hwarang.domain.geopoint import GeoPoint


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
