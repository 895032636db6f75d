"""The hub's record of sent CAP alerts, kept in the audit trail (no table of its own).

Each alert the hub hands out is audited as ``interop.cap.sent`` on ``incident:<id>`` with its
identifier, sender and sent time; the next alert about the incident references them all. The
audit trail is append-only and hash-chained, so the record survives restarts and cannot be
rewritten.
"""

import uuid
from datetime import datetime

from hwarang.hub.evidence.log import AuditLog
from hwarang.interop.cap import CapReference

ACTION = "interop.cap.sent"
ACTOR = "system:cap"
MAX_REFERENCES = 500


class AuditSentAlerts:
    """:class:`hwarang.interop.cap_sent.SentAlerts` over the hub's audit trail."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def sent_before(self, incident_id: uuid.UUID) -> list[CapReference]:
        entries = self._audit.entries(MAX_REFERENCES, action=ACTION, target=f"incident:{incident_id}")
        references = []
        for entry in reversed(entries):  # oldest first
            detail = entry.detail
            references.append(
                CapReference(
                    sender=str(detail["sender"]),
                    identifier=str(detail["identifier"]),
                    sent=datetime.fromisoformat(str(detail["sent"])),
                )
            )
        return references

    def record(self, incident_id: uuid.UUID, alert: CapReference) -> None:
        known = self.sent_before(incident_id)
        if any(ref.identifier == alert.identifier and ref.sender == alert.sender for ref in known):
            return
        detail = {"identifier": alert.identifier, "sender": alert.sender, "sent": alert.sent.isoformat()}
        self._audit.record(ACTOR, ACTION, f"incident:{incident_id}", detail)
