"""Audit records: every state change and every sensitive read leaves one."""

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, Field
from sqlalchemy.orm import Session

from hwarang.domain import DomainModel
from hwarang.hub.store.models import AuditRow


class AuditEntry(DomainModel):
    """One audit record as the API shows it."""

    id: int = Field(description="Increasing record number.")
    at: AwareDatetime = Field(description="When it happened (UTC).")
    actor: str = Field(description="Who: a username, or 'system:<component>'.")
    action: str = Field(description="What, dotted: 'incident.create', 'auth.login', 'evidence.view'.")
    target: str = Field(description="Which object: an incident id, a username, a snapshot hash.")
    detail: dict[str, Any] = Field(default_factory=dict, description="Extra JSON context.")


def add_audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Add an audit row to ``session`` (committed with the change it records)."""
    if not actor or not action:
        raise ValueError(f"audit record needs an actor and an action, got actor={actor!r} action={action!r}")
    session.add(
        AuditRow(
            at=at or datetime.now(UTC),
            actor=actor[:128],
            action=action[:64],
            target=target[:256],
            detail=dict(detail or {}),
        )
    )


def audit_from_row(row: AuditRow) -> AuditEntry:
    """The domain view of an audit row."""
    return AuditEntry(
        id=row.id, at=row.at, actor=row.actor, action=row.action, target=row.target, detail=row.detail
    )
