"""Incidents carry their title codes (rule name, camera name), severity reasons and detectors.

Revision ID: 0005_severity_reasons
Revises: 0004_drones
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005_severity_reasons"
down_revision: str | None = "0004_drones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Add the columns; existing incidents get no reasons and unknown detectors."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("rule_name", sa.String(128), nullable=True))
        batch.add_column(sa.Column("camera_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("severity_reasons", _JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("detectors", _JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("incidents") as batch:
        for column in ("detectors", "severity_reasons", "camera_name", "rule_name"):
            batch.drop_column(column)
