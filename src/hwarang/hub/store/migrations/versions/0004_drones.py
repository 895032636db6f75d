"""Unmanned systems: the latest state of each drone track and drone alerts (geofence, visual).

Revision ID: 0004_drones
Revises: 0003_judgment
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004_drones"
down_revision: str | None = "0003_judgment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``drone_tracks`` and ``drone_alerts``."""
    op.create_table(
        "drone_tracks",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("track_id", sa.String(64), nullable=False),
        sa.Column("friendly", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.Column("report", _JSON, nullable=False),
        sa.Column("inside", _JSON, nullable=False),
    )
    op.create_index("ix_drone_tracks_updated_at", "drone_tracks", ["updated_at"])
    op.create_table(
        "drone_alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("track_key", sa.String(96), nullable=True),
        sa.Column("uas_id", sa.String(64), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("payload", _JSON, nullable=False),
    )
    for column in ("time", "uas_id", "event_id", "incident_id"):
        op.create_index(f"ix_drone_alerts_{column}", "drone_alerts", [column])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_table("drone_alerts")
    op.drop_table("drone_tracks")
