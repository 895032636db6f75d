"""Explicit incident shares: with an agency (code or kind), a reason and an expiry.

Revision ID: 0006_incident_shares
Revises: 0005_severity_reasons
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_incident_shares"
down_revision: str | None = "0005_severity_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``incident_shares``."""
    op.create_table(
        "incident_shares",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Uuid(),
            sa.ForeignKey("incidents.id", name="fk_incident_shares_incident_id"),
            nullable=False,
        ),
        sa.Column("agency_kind", sa.String(32), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("shared_by", sa.String(64), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_incident_shares_incident_id", "incident_shares", ["incident_id"])
    op.create_index("ix_incident_shares_expires_at", "incident_shares", ["expires_at"])


def downgrade() -> None:
    """Drop ``incident_shares``."""
    op.drop_index("ix_incident_shares_expires_at", "incident_shares")
    op.drop_index("ix_incident_shares_incident_id", "incident_shares")
    op.drop_table("incident_shares")
