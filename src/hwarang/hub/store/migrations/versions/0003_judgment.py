"""Judgment and sharing: workflow, tasks, notes, attachments, conditions and grants, agencies,
refresh tokens, login lockout, incident sharing, and the hash chain of the audit log.

Revision ID: 0003_judgment
Revises: 0002_postgis
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003_judgment"
down_revision: str | None = "0002_postgis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> "sa.Column[datetime]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _incident_fk(table: str) -> "sa.Column[object]":
    return sa.Column(
        "incident_id",
        sa.Uuid(),
        sa.ForeignKey("incidents.id", name=f"fk_{table}_incident_id"),
        nullable=False,
    )


def upgrade() -> None:
    """Add the new columns (with defaults for existing rows) and tables."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("shared_with", _JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("merged_into", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=True))
        batch.add_column(_ts("acknowledged_at", nullable=True))
        batch.add_column(_ts("resolved_at", nullable=True))
        batch.add_column(sa.Column("track_keys", _JSON, nullable=False, server_default="[]"))
    op.create_index("ix_incidents_last_seen", "incidents", ["last_seen"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("clearance", sa.String(16), nullable=False, server_default="restricted"))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(_ts("locked_until", nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    with op.batch_alter_table("hub_state") as batch:
        batch.add_column(sa.Column("audit_last_id", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("audit_head", sa.String(64), nullable=True))
    _chain_existing_audit_records()
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "username",
            sa.String(64),
            sa.ForeignKey("users.username", name="fk_refresh_tokens_username"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("issued_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        sa.Column("replaced_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_refresh_tokens_username", "refresh_tokens", ["username"])
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("jurisdiction_code", sa.String(5), nullable=True),
    )
    op.create_table(
        "incident_history",
        sa.Column("id", _BIGINT_PK, primary_key=True, autoincrement=True),
        _incident_fk("incident_history"),
        _ts("at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
    )
    op.create_index("ix_incident_history_incident_id", "incident_history", ["incident_id"])
    op.create_table(
        "incident_notes",
        sa.Column("id", _BIGINT_PK, primary_key=True, autoincrement=True),
        _incident_fk("incident_notes"),
        sa.Column("author", sa.String(64), nullable=False),
        _ts("at"),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_incident_notes_incident_id", "incident_notes", ["incident_id"])
    op.create_table(
        "incident_attachments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _incident_fk("incident_attachments"),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(256), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        _ts("at"),
    )
    op.create_index("ix_incident_attachments_incident_id", "incident_attachments", ["incident_id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _incident_fk("tasks"),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(128), nullable=True),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("due_at"),
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
        _ts("escalated_at", nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_tasks_incident_id", "tasks", ["incident_id"])
    op.create_index("ix_tasks_agency_code", "tasks", ["agency_code"])
    op.create_index("ix_tasks_due_at", "tasks", ["due_at"])
    op.create_table(
        "conditions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subtype", sa.String(64), nullable=True),
        sa.Column("alert_level", sa.Integer(), nullable=True),
        sa.Column("area_codes", _JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.String(64), nullable=False),
        _ts("declared_at"),
        _ts("expires_at"),
        _ts("lifted_at", nullable=True),
        sa.Column("lifted_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_conditions_expires_at", "conditions", ["expires_at"])
    op.create_table(
        "grants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "condition_id",
            sa.Uuid(),
            sa.ForeignKey("conditions.id", name="fk_grants_condition_id"),
            nullable=False,
        ),
        sa.Column("agency_kind", sa.String(32), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("area_codes", _JSON, nullable=False),
        sa.Column("permissions", _JSON, nullable=False),
        _ts("starts_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_index("ix_grants_condition_id", "grants", ["condition_id"])
    op.create_index("ix_grants_expires_at", "grants", ["expires_at"])


def _chain_existing_audit_records() -> None:
    """Renumber existing audit records 1..n in their order (ids were never referenced) and hash-chain them."""
    from hwarang.hub.evidence.audit import GENESIS_HASH, record_hash
    from hwarang.hub.store.models import JsonType, UTCDateTime

    log = sa.table(
        "audit_log",
        sa.column("id", sa.BigInteger()),
        sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target", sa.String()),
        sa.column("detail", JsonType),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    renumber = (
        sa.update(log)
        .where(log.c.id == sa.bindparam("old_id"))
        .values(id=sa.bindparam("new_id"), prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
    )
    # New ids never exceed old ones, so paging on the old id never meets a renumbered row.
    count, prev, after = 0, GENESIS_HASH, -1
    while True:
        page = bind.execute(sa.select(log).where(log.c.id > after).order_by(log.c.id).limit(5000)).all()
        if not page:
            break
        changes = []
        for row in page:
            count += 1
            digest = record_hash(count, row.at, row.actor, row.action, row.target, row.detail or {}, prev)
            changes.append({"old_id": row.id, "new_id": count, "new_prev": prev, "new_hash": digest})
            prev = digest
        bind.execute(renumber, changes)
        after = page[-1].id
    state = sa.table("hub_state", sa.column("audit_last_id", sa.BigInteger()), sa.column("audit_head"))
    bind.execute(sa.update(state).values(audit_last_id=count, audit_head=prev if count else None))


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    for table in (
        "grants",
        "conditions",
        "tasks",
        "incident_attachments",
        "incident_notes",
        "incident_history",
        "agencies",
        "refresh_tokens",
    ):
        op.drop_table(table)
    with op.batch_alter_table("hub_state") as batch:
        batch.drop_column("audit_head")
        batch.drop_column("audit_last_id")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("clearance")
    op.drop_index("ix_incidents_last_seen", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("track_keys")
        for column in ("resolved_at", "acknowledged_at", "assignee", "merged_into", "shared_with"):
            batch.drop_column(column)
