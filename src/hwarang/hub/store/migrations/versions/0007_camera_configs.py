"""Camera configuration versions set from the page or the API, with the edge's answer.

Revision ID: 0007_camera_configs
Revises: 0006_incident_shares
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007_camera_configs"
down_revision: str | None = "0006_incident_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``camera_configs``."""
    op.create_table(
        "camera_configs",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("center_id", sa.String(64), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("command_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_status", sa.String(16), nullable=True),
        sa.Column("ack_reason", sa.Text(), nullable=True),
        sa.Column("ack_how", sa.String(32), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop ``camera_configs``."""
    op.drop_table("camera_configs")
