"""The audit trail as one object: record, read and verify (see :mod:`hwarang.hub.evidence.audit`)."""

from typing import Any

from hwarang.hub.evidence.audit import AuditEntry, add_audit, query_audit
from hwarang.hub.evidence.chain import ChainReport, ProgressCallback, verify_chain
from hwarang.hub.store.db import Database

__all__ = ["AuditLog"]


class AuditLog:
    """The audit trail of ``database``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, actor: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        """Record something that changed no table (a login, an evidence view)."""
        with self._database.session(write=True) as session:
            add_audit(session, actor, action, target, detail)

    def entries(
        self,
        limit: int = 100,
        *,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        """Audit records, newest first, filtered as :func:`hwarang.hub.evidence.audit.query_audit` says."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._database.session() as session:
            return query_audit(
                session, limit=limit, before_id=before_id, actor=actor, action=action, target=target
            )

    def verify(self, progress: ProgressCallback | None = None) -> ChainReport:
        """Walk the audit trail's hash chain; the report names the first bad record."""
        return verify_chain(self._database, progress=progress)
