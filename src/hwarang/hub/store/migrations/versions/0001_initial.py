"""Initial hub schema: incidents, events, cameras, users, audit log, hub state.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> "sa.Column[datetime]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create every table of the first release and the single hub_state row."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("classification", sa.String(16), nullable=False),
        sa.Column("object_class", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("center_id", sa.String(64), nullable=False),
        sa.Column("sido_code", sa.String(2), nullable=False),
        sa.Column("sigungu_code", sa.String(5), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.Column("snapshot_sha256", sa.String(64), nullable=True),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_incidents_seq", "incidents", ["seq"], unique=True)
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("center_id", sa.String(64), nullable=False),
        sa.Column("sido_code", sa.String(2), nullable=False),
        sa.Column("sigungu_code", sa.String(5), nullable=False),
        _ts("occurred_at"),
        _ts("received_at"),
        sa.Column("object_class", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("rule_name", sa.String(128), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("snapshot_sha256", sa.String(64), nullable=True),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column(
            "incident_id",
            sa.Uuid(),
            sa.ForeignKey("incidents.id", name="fk_events_incident_id"),
            nullable=True,
        ),
    )
    op.create_index("ix_events_camera_id", "events", ["camera_id"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.create_index("ix_events_incident_id", "events", ["incident_id"])
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("center_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sido_code", sa.String(2), nullable=False),
        sa.Column("sigungu_code", sa.String(5), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("jurisdiction_code", sa.String(5), nullable=True),
        sa.Column("roles", _JSON, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _BIGINT_PK, primary_key=True, autoincrement=True),
        _ts("at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    hub_state = op.create_table(
        "hub_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(hub_state, [{"id": 1, "last_seq": 0}])


def downgrade() -> None:
    """Drop every table of the first release."""
    for table in ("hub_state", "audit_log", "users", "cameras", "events", "incidents"):
        op.drop_table(table)
