"""Declared conditions and the access grants they open (law-gated sharing of municipal CCTV)."""

import uuid

from pydantic import AwareDatetime, Field

from hwarang.domain.base import DomainModel
from hwarang.domain.enums import AgencyKind, ConditionKind

AREA_CODE_PATTERN = r"^(\d{2}|\d{5})$"


class DeclaredCondition(DomainModel):
    """A declared situation (integrated-defense situation, alert level, exercise, terror, disaster)."""

    id: uuid.UUID
    kind: ConditionKind
    subtype: str | None = Field(
        default=None,
        max_length=64,
        description="E.g. situation type 'gap'/'eul'/'byeong', exercise 'ulchi', 'combined', 'integrated'.",
    )
    alert_level: int | None = Field(
        default=None, ge=1, le=3, description="Readiness level 1 (highest) to 3, for alert_level conditions."
    )
    area_codes: tuple[str, ...] = Field(min_length=1, description="Sido (2-digit) or sigungu codes.")
    reason: str = Field(default="", max_length=2000)
    declared_by: str
    declared_at: AwareDatetime
    expires_at: AwareDatetime
    lifted_at: AwareDatetime | None = None
    lifted_by: str | None = None


class Grant(DomainModel):
    """Permission opened by a condition: an agency (kind or code) may do ``permissions`` in an area."""

    id: uuid.UUID
    condition_id: uuid.UUID
    agency_kind: AgencyKind | None = None
    agency_code: str | None = None
    area_codes: tuple[str, ...] = Field(min_length=1)
    permissions: tuple[str, ...] = Field(min_length=1, description="Action names, e.g. 'evidence.view'.")
    starts_at: AwareDatetime
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None = None

    def active(self, now: AwareDatetime) -> bool:
        """True while the grant is in force at ``now``."""
        return self.starts_at <= now < self.expires_at and (self.revoked_at is None or now < self.revoked_at)


class IncidentShare(DomainModel):
    """An incident shared explicitly by its owning center with an agency (by code or kind), with a
    reason, until ``expires_at`` (or until revoked)."""

    id: uuid.UUID
    incident_id: uuid.UUID
    agency_kind: AgencyKind | None = None
    agency_code: str | None = None
    reason: str = Field(min_length=1, max_length=2000)
    shared_by: str
    shared_at: AwareDatetime
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    revoked_by: str | None = None

    def active(self, now: AwareDatetime) -> bool:
        """True while the share is in force at ``now``."""
        return self.shared_at <= now < self.expires_at and (self.revoked_at is None or now < self.revoked_at)
