"""Unacknowledged incidents escalate on the policy's timer, visibly.

An incident still ``new`` ``unacknowledged_escalation_s`` after it opened is raised one severity
level, and again after each further period, up to ``unacknowledged_max_level`` times. Each step is
an ``escalation`` entry in its history (level, seconds unacknowledged, severities), an audit record
(``incident.escalate``), and a new seq, so every page sees the incident change at once.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from hwarang.domain import Incident, IncidentState, Severity
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.store.models import IncidentHistoryRow, IncidentRow
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.parts import WorkflowParts
from hwarang.hub.workflow.records import add_history, incident_of, lock_incident, renumber
from hwarang.hub.workflow.tasks import ESCALATION_ACTOR, raised

logger = logging.getLogger(__name__)

ESCALATION_KIND = "escalation"


class UnacknowledgedEscalation:
    """Raises ``new`` incidents that nobody acknowledged within the policy's period."""

    def __init__(self, parts: WorkflowParts, config: WorkflowConfig, clock: Callable[[], datetime]) -> None:
        self._parts = parts
        self._config = config
        self._clock = clock

    @property
    def enabled(self) -> bool:
        """False when the policy sets no period."""
        return self._config.unacknowledged_escalation_s is not None

    def escalate(self, now: datetime | None = None) -> list[Incident]:
        """One pass: escalate every incident due; returns them as changed (listeners are notified)."""
        period_s = self._config.unacknowledged_escalation_s
        if period_s is None:
            return []
        now = now or self._clock()
        oldest = now - timedelta(seconds=period_s)
        with self._parts.database.session() as session:
            due = list(
                session.scalars(
                    select(IncidentRow.id).where(
                        IncidentRow.state == IncidentState.NEW.value,
                        IncidentRow.merged_into.is_(None),
                        IncidentRow.created_at <= oldest,
                    )
                )
            )
        changed = [incident for incident_id in due if (incident := self._step(incident_id, now, period_s))]
        for incident in changed:
            self._parts.journal.notify(incident)
        if changed:
            logger.warning("%s unacknowledged incident(s) escalated", len(changed))
        return changed

    def _step(self, incident_id: uuid.UUID, now: datetime, period_s: float) -> Incident | None:
        with self._parts.database.session(write=True) as session:
            row = lock_incident(session, incident_id)
            if row.state != IncidentState.NEW.value:
                return None
            level = int(
                session.scalar(
                    select(func.count())
                    .select_from(IncidentHistoryRow)
                    .where(
                        IncidentHistoryRow.incident_id == incident_id,
                        IncidentHistoryRow.kind == ESCALATION_KIND,
                    )
                )
                or 0
            )
            waited_s = (now - row.created_at).total_seconds()
            if level >= self._config.unacknowledged_max_level or waited_s < period_s * (level + 1):
                return None
            before = Severity(row.severity)
            row.severity = raised(before).value
            renumber(self._parts.journal, session, row, now)
            detail = {
                "level": level + 1,
                "after_s": round(waited_s),
                "from": before.value,
                "to": row.severity,
                "reason": "not acknowledged",
            }
            add_history(session, incident_id, ESCALATION_ACTOR, ESCALATION_KIND, now, detail=detail)
            add_audit(
                session, ESCALATION_ACTOR, "incident.escalate", f"incident:{incident_id}", detail, at=now
            )
            return incident_of(session, row)
