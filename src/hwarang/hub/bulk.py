"""Rows of newly ingested events as plain values, inserted with one executemany per table.

The ORM's unit of work costs more per row than the database does; a batch of events becomes three
``INSERT ... VALUES`` executemany calls (incidents, events, audit) in the caller's transaction.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from hwarang.domain import Classification, Event, Incident, IncidentState, ObjectClass, RuleKind, Severity
from hwarang.hub.store.models import AuditRow, EventRow, IncidentRow

INGEST_ACTOR = "system:ingest"


@dataclass(slots=True)
class NewIncidents:
    """Values of the rows one batch adds, and the incidents they describe (for listeners)."""

    incidents: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    created: list[Incident] = field(default_factory=list)

    def add(
        self, event: Event, *, seq: int, title: str, severity: Severity, zone_id: int | None, now: datetime
    ) -> None:
        """One event that opens one new incident."""
        incident_id = uuid.uuid4()
        incident = Incident(
            id=incident_id,
            seq=seq,
            title=title,
            state=IncidentState.NEW,
            severity=severity,
            classification=Classification.RESTRICTED,
            object_class=event.object_class,
            rule=event.rule,
            camera_id=event.camera_id,
            center_id=event.center_id,
            sido_code=event.sido_code,
            sigungu_code=event.sigungu_code,
            zone_id=zone_id,
            geo=event.geo,
            first_seen=event.occurred_at,
            last_seen=event.occurred_at,
            event_ids=(event.id,),
            snapshot_sha256=None if event.snapshot is None else event.snapshot.sha256,
            exercise=event.exercise,
            created_at=now,
            updated_at=now,
        )
        self.created.append(incident)
        self.incidents.append(
            {
                "id": incident_id,
                "seq": seq,
                "title": title,
                "state": incident.state.value,
                "severity": severity.value,
                "classification": incident.classification.value,
                "object_class": event.object_class.value,
                "rule": event.rule.value,
                "camera_id": event.camera_id,
                "center_id": event.center_id,
                "sido_code": event.sido_code,
                "sigungu_code": event.sigungu_code,
                "zone_id": zone_id,
                "lat": None if event.geo is None else event.geo.lat,
                "lon": None if event.geo is None else event.geo.lon,
                "first_seen": event.occurred_at,
                "last_seen": event.occurred_at,
                "snapshot_sha256": incident.snapshot_sha256,
                "exercise": event.exercise,
                "created_at": now,
                "updated_at": now,
            }
        )
        self.events.append(
            {
                "id": event.id,
                "camera_id": event.camera_id,
                "center_id": event.center_id,
                "sido_code": event.sido_code,
                "sigungu_code": event.sigungu_code,
                "occurred_at": event.occurred_at,
                "received_at": now,
                "object_class": event.object_class.value,
                "confidence": event.confidence,
                "rule": event.rule.value,
                "rule_name": event.rule_name,
                "track_id": event.track_id,
                "lat": None if event.geo is None else event.geo.lat,
                "lon": None if event.geo is None else event.geo.lon,
                "snapshot_sha256": incident.snapshot_sha256,
                "exercise": event.exercise,
                "payload": event.model_dump(mode="json"),
                "incident_id": incident_id,
            }
        )
        detail = {
            "seq": seq,
            "event_id": str(event.id),
            "severity": severity.value,
            "exercise": event.exercise,
        }
        self.audits.append(
            {
                "at": now,
                "actor": INGEST_ACTOR,
                "action": "incident.create",
                "target": str(incident_id),
                "detail": detail,
            }
        )

    def insert(self, session: Session) -> None:
        """Insert every row in ``session``'s transaction (incidents first: events refer to them)."""
        for table, rows in (
            (IncidentRow.__table__, self.incidents),
            (EventRow.__table__, self.events),
            (AuditRow.__table__, self.audits),
        ):
            if rows:
                session.execute(insert(cast(Table, table)), rows)


def build_new_incidents(
    events: list[Event],
    *,
    first_seq: int,
    labels: dict[str, str],
    zone_for_sido: Callable[[str], int | None] | None,
    title: Callable[[RuleKind, ObjectClass, str], str],
    severity: Callable[[RuleKind, ObjectClass], Severity],
    now: datetime,
) -> NewIncidents:
    """One new incident per event, with consecutive sequence numbers from ``first_seq``."""
    batch = NewIncidents()
    for seq, event in enumerate(events, start=first_seq):
        batch.add(
            event,
            seq=seq,
            title=title(event.rule, event.object_class, labels[event.camera_id]),
            severity=severity(event.rule, event.object_class),
            zone_id=None if zone_for_sido is None else zone_for_sido(event.sido_code),
            now=now,
        )
    return batch
