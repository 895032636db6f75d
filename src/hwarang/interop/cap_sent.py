"""The record of CAP alerts Hwarang has sent, so each Update and Cancel can reference them all.

:class:`SentAlerts` is what :func:`send_cap` needs: the earlier alerts about an incident and a
way to add one. :class:`MemorySentAlerts` keeps them in memory (tests, one-off exports); the hub
keeps them in its audit trail (``hwarang.api.cap_sent``), which is append-only and survives
restarts, so no table of its own is needed.
"""

import threading
import uuid
from datetime import datetime
from typing import Protocol

from hwarang.domain import Incident
from hwarang.interop.cap import (
    DEFAULT_POLICY,
    CapPolicy,
    CapReference,
    RegionNames,
    cap_identifier,
    cap_time,
    incident_to_cap,
)
from hwarang.interop.cap_validate import validate_cap


class SentAlerts(Protocol):
    """Earlier alerts per incident, oldest first, and a way to record a new one."""

    def sent_before(self, incident_id: uuid.UUID) -> list[CapReference]: ...

    def record(self, incident_id: uuid.UUID, alert: CapReference) -> None: ...


class MemorySentAlerts:
    """:class:`SentAlerts` in memory (thread-safe)."""

    def __init__(self) -> None:
        self._alerts: dict[uuid.UUID, list[CapReference]] = {}
        self._lock = threading.Lock()

    def sent_before(self, incident_id: uuid.UUID) -> list[CapReference]:
        with self._lock:
            return list(self._alerts.get(incident_id, ()))

    def record(self, incident_id: uuid.UUID, alert: CapReference) -> None:
        with self._lock:
            known = self._alerts.setdefault(incident_id, [])
            if all(a.identifier != alert.identifier or a.sender != alert.sender for a in known):
                known.append(alert)


def send_cap(
    incident: Incident,
    sent_alerts: SentAlerts,
    *,
    sender: str,
    web_base_url: str | None,
    sent: datetime | None = None,
    policy: CapPolicy = DEFAULT_POLICY,
    region_names: RegionNames | None = None,
) -> bytes:
    """``incident``'s alert referencing every alert sent about it before, validated and recorded.

    The arguments are :func:`hwarang.interop.cap.incident_to_cap`'s.
    """
    sent_at = sent or incident.updated_at
    body = incident_to_cap(
        incident,
        sender=sender,
        sent=sent_at,
        references=sent_alerts.sent_before(incident.id),
        policy=policy,
        web_base_url=web_base_url,
        region_names=region_names,
    )
    validate_cap(body)
    sent_whole = datetime.fromisoformat(cap_time(sent_at))
    sent_alerts.record(
        incident.id, CapReference(sender=sender, identifier=cap_identifier(incident), sent=sent_whole)
    )
    return body
