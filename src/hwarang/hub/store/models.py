"""ORM tables of the hub, portable between SQLite and PostgreSQL.

Datetimes are stored in UTC and always come back timezone-aware, whatever the engine.
The Alembic migrations in ``migrations/versions`` create exactly these tables.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HUB_STATE_ID = 1

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntPk = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; give it a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every hub table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JsonType}


class IncidentRow(Base):
    """One incident; its events point at it through ``events.incident_id``."""

    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger(), unique=True, index=True)
    title: Mapped[str] = mapped_column(Text())
    state: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    object_class: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[str] = mapped_column(String(64))
    center_id: Mapped[str] = mapped_column(String(64))
    sido_code: Mapped[str] = mapped_column(String(2))
    sigungu_code: Mapped[str] = mapped_column(String(5))
    zone_id: Mapped[int | None] = mapped_column(Integer())
    lat: Mapped[float | None] = mapped_column(Float())
    lon: Mapped[float | None] = mapped_column(Float())
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    exercise: Mapped[bool] = mapped_column(Boolean())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    shared_with: Mapped[list[str]] = mapped_column(JsonType, default=list)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    track_keys: Mapped[list[Any]] = mapped_column(JsonType, default=list)  # [camera_id, track_id] pairs
    rule_name: Mapped[str | None] = mapped_column(String(128), default=None)
    camera_name: Mapped[str | None] = mapped_column(Text(), default=None)
    severity_reasons: Mapped[list[Any]] = mapped_column(JsonType, default=list)  # SeverityReason JSON
    detectors: Mapped[list[Any]] = mapped_column(JsonType, default=list)  # {kind, model} of its events


class EventRow(Base):
    """One event as received; ``payload`` holds the full Event JSON."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    center_id: Mapped[str] = mapped_column(String(64))
    sido_code: Mapped[str] = mapped_column(String(2))
    sigungu_code: Mapped[str] = mapped_column(String(5))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime]
    object_class: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float())
    rule: Mapped[str] = mapped_column(String(32))
    rule_name: Mapped[str] = mapped_column(String(128))
    track_id: Mapped[int] = mapped_column(BigInteger())
    lat: Mapped[float | None] = mapped_column(Float())
    lon: Mapped[float | None] = mapped_column(Float())
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    exercise: Mapped[bool] = mapped_column(Boolean())
    payload: Mapped[dict[str, Any]]
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_events_incident_id"), index=True
    )


class CameraRow(Base):
    """A camera known to the hub; ``payload`` holds the full Camera JSON."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    center_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text())
    sido_code: Mapped[str] = mapped_column(String(2))
    sigungu_code: Mapped[str] = mapped_column(String(5))
    lat: Mapped[float] = mapped_column(Float())
    lon: Mapped[float] = mapped_column(Float())
    payload: Mapped[dict[str, Any]]


class UserRow(Base):
    """A user account with its argon2 password hash."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text())
    agency_code: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(5))
    roles: Mapped[list[str]] = mapped_column(JsonType)
    password_hash: Mapped[str] = mapped_column(Text())
    disabled: Mapped[bool] = mapped_column(Boolean())
    created_at: Mapped[datetime]
    clearance: Mapped[str] = mapped_column(String(16), default="restricted")
    failed_logins: Mapped[int] = mapped_column(Integer(), default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class RefreshTokenRow(Base):
    """A refresh token: only the SHA-256 of the secret is stored; rotated on every use."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", name="fk_refresh_tokens_username"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(64), default=None)


class AgencyRow(Base):
    """An organisation taking part in integrated defense."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text())
    kind: Mapped[str] = mapped_column(String(32))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(5))


class AuditRow(Base):
    """One audit record: who did what to which object, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    hash: Mapped[str | None] = mapped_column(String(64), default=None)


class HubStateRow(Base):
    """The single row (``id == 1``) holding the last allocated incident change sequence number."""

    __tablename__ = "hub_state"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger())
    audit_last_id: Mapped[int] = mapped_column(BigInteger(), default=0)
    audit_head: Mapped[str | None] = mapped_column(String(64), default=None)


class IncidentHistoryRow(Base):
    """One step of an incident's timeline (created, event added, state change, merge, split, task...)."""

    __tablename__ = "incident_history"

    id: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_incident_history_incident_id"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class NoteRow(Base):
    """A free-text note on an incident."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_incident_notes_incident_id"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text())


class AttachmentRow(Base):
    """A file attached to an incident; the bytes live in the evidence store under ``sha256``."""

    __tablename__ = "incident_attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_incident_attachments_incident_id"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger())
    uploaded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class TaskRow(Base):
    """A task given to an agency (or one of its units) about an incident."""

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_tasks_incident_id"), index=True
    )
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(256))
    instructions: Mapped[str] = mapped_column(Text())
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(index=True)
    escalation_level: Mapped[int] = mapped_column(Integer(), default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConditionRow(Base):
    """A declared condition (integrated-defense situation, alert level, exercise, terror, disaster)."""

    __tablename__ = "conditions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subtype: Mapped[str | None] = mapped_column(String(64))
    alert_level: Mapped[int | None] = mapped_column(Integer())
    area_codes: Mapped[list[str]] = mapped_column(JsonType)
    reason: Mapped[str] = mapped_column(Text())
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(64), default=None)


class IncidentShareRow(Base):
    """An explicit share of an incident with an agency (code or kind), with a reason and an expiry."""

    __tablename__ = "incident_shares"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", name="fk_incident_shares_incident_id"), index=True
    )
    agency_kind: Mapped[str | None] = mapped_column(String(32))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text())
    shared_by: Mapped[str] = mapped_column(String(64))
    shared_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)


class GrantRow(Base):
    """Access opened by a condition for an agency (by kind or code) in an area, until it expires."""

    __tablename__ = "grants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    condition_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("conditions.id", name="fk_grants_condition_id"), index=True
    )
    agency_kind: Mapped[str | None] = mapped_column(String(32))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    area_codes: Mapped[list[str]] = mapped_column(JsonType)
    permissions: Mapped[list[str]] = mapped_column(JsonType)
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class DroneTrackRow(Base):
    """The latest state of one drone or robot track (history stays in memory); ``report`` is its JSON."""

    __tablename__ = "drone_tracks"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    track_id: Mapped[str] = mapped_column(String(64))
    friendly: Mapped[bool] = mapped_column(Boolean())
    first_seen: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    reports: Mapped[int] = mapped_column(BigInteger())
    report: Mapped[dict[str, Any]]
    inside: Mapped[list[str]] = mapped_column(JsonType)


class DroneAlertRow(Base):
    """A geofence crossing or a visual drone judged against Remote ID; ``payload`` is the DroneAlert."""

    __tablename__ = "drone_alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    time: Mapped[datetime] = mapped_column(index=True)
    track_key: Mapped[str | None] = mapped_column(String(96))
    uas_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    payload: Mapped[dict[str, Any]]


class CameraConfigRow(Base):
    """One version of a camera's configuration (site-YAML JSON) and the edge's answer to it."""

    __tablename__ = "camera_configs"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer(), primary_key=True)
    center_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    command_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    ack_status: Mapped[str | None] = mapped_column(String(16), default=None)
    ack_reason: Mapped[str | None] = mapped_column(Text(), default=None)
    ack_how: Mapped[str | None] = mapped_column(String(32), default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)
