"""Fusion by hand: merge incidents into one, or split events off into a new incident.

Both run in one transaction that locks the incidents involved (in id order, then ``hub_state`` for
the new seqs, as every writer does), give every changed incident a new seq, write one
``incident_history`` row per incident (kind ``merge`` or ``split``, with the reason) and one audit
record per incident, and tell the journal's listeners after the commit.

Refused with :class:`~hwarang.hub.errors.ConflictError` (HTTP 409), the message saying why: merging an
incident into itself, an incident resolved or marked a false alarm, one already merged, exercise and
real incidents together; splitting off events that are not in the incident, or all of its events.
A split leaves the original incident's severity and sharing as they were (an operator may have
raised them); the new incident is rated from its own events.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hwarang.domain import Event, IncidentState, Severity
from hwarang.hub.errors import ConflictError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.fusion.fuser import EventFuser
from hwarang.hub.fusion.labels import CameraLabels
from hwarang.hub.fusion.rows import CLOSED_STATES, detector_entry, incident_title, reasons_json, track_keys
from hwarang.hub.fusion.severity import max_severity
from hwarang.hub.journal import Journal
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import event_from_row, incidents_from_rows
from hwarang.hub.store.models import EventRow, IncidentRow
from hwarang.hub.workflow.records import add_history, lock_incident

if TYPE_CHECKING:
    from hwarang.domain import Incident

MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class RegroupParts:
    """What merging and splitting work with: the store, the journal, fusion's ratings, camera labels."""

    database: Database
    journal: Journal
    fuser: EventFuser
    labels: CameraLabels


def _check_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ConflictError("a reason is required: it is recorded in the incident history")
    return text[:MAX_REASON]


def _check_open(row: IncidentRow) -> None:
    if row.state in CLOSED_STATES:
        raise ConflictError(f"incident {row.id} is {row.state}; reopen it before merging or splitting")


def _lock_all(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, IncidentRow]:
    """Lock the incidents in id order (so two writers never wait on each other in a circle)."""
    return {incident_id: lock_incident(session, incident_id) for incident_id in sorted(set(ids))}


def merge_incidents(
    parts: RegroupParts, target_id: uuid.UUID, source_ids: Sequence[uuid.UUID], reason: str, actor: str
) -> "Incident":
    """Move every event of ``source_ids`` into ``target_id``; the sources point at it (``merged_into``).

    The target spans all their times, takes the highest severity and every agency shared with; the
    sources keep their rows (and history) with no events. Returns the target as merged.
    """
    why = _check_reason(reason)
    sources = list(dict.fromkeys(source_ids))
    if not sources:
        raise ConflictError(f"merge into incident {target_id} names no incident to merge")
    if target_id in sources:
        raise ConflictError(f"cannot merge incident {target_id} into itself")
    now = datetime.now(UTC)
    with parts.database.session(write=True) as session:
        rows = _lock_all(session, [target_id, *sources])
        target = rows[target_id]
        merged = [rows[source_id] for source_id in sources]
        for row in (target, *merged):
            _check_open(row)
            if row.exercise != target.exercise:
                raise ConflictError(
                    f"incident {row.id} is {'an exercise' if row.exercise else 'real'} and {target_id} is "
                    f"{'an exercise' if target.exercise else 'real'}: they cannot be merged"
                )
        moved = list(
            session.scalars(
                select(EventRow.id).where(EventRow.incident_id.in_(sources)).order_by(EventRow.id)
            )
        )
        session.execute(
            update(EventRow)
            .where(EventRow.incident_id.in_(sources))
            .values(incident_id=target_id)
            .execution_options(synchronize_session=False)
        )
        _absorb(target, merged)
        last = parts.journal.next_seq(session, 1 + len(merged))
        target.seq, target.updated_at = last - len(merged), now
        for seq, row in enumerate(merged, start=target.seq + 1):
            row.merged_into, row.seq, row.updated_at = target_id, seq, now
        detail: dict[str, Any] = {"reason": why, "sources": [str(s) for s in sources], "events": len(moved)}
        add_history(session, target_id, actor, "merge", now, detail=detail)
        add_audit(session, actor, "incident.merge", str(target_id), detail)
        for row in merged:
            into = {"reason": why, "merged_into": str(target_id)}
            add_history(session, row.id, actor, "merge", now, detail=into)
            add_audit(session, actor, "incident.merge", str(row.id), into)
        session.flush()
        changed = incidents_from_rows(session, [target, *merged])
    for incident in changed:
        parts.journal.notify(incident)
    return changed[0]


def _absorb(target: IncidentRow, merged: Sequence[IncidentRow]) -> None:
    """The target's span, position, severity, sharing, tracks and snapshot after the merge."""
    everyone = (target, *merged)
    latest = max(everyone, key=lambda row: row.last_seen)
    target.first_seen = min(row.first_seen for row in everyone)
    target.last_seen = latest.last_seen
    if latest.lat is not None and latest.lon is not None:
        target.lat, target.lon = latest.lat, latest.lon
    severity = Severity(target.severity)
    for row in merged:
        if max_severity(severity, Severity(row.severity)) is not severity:
            severity, target.severity_reasons = Severity(row.severity), list(row.severity_reasons or [])
    target.severity = severity.value
    detectors = [entry for row in everyone for entry in (row.detectors or ())]
    target.detectors = [entry for i, entry in enumerate(detectors) if entry not in detectors[:i]]
    target.shared_with = list(dict.fromkeys(item for row in everyone for item in (row.shared_with or ())))
    target.track_keys = track_keys({(str(c), int(t)) for row in everyone for c, t in (row.track_keys or ())})
    if target.snapshot_sha256 is None:
        target.snapshot_sha256 = next((r.snapshot_sha256 for r in merged if r.snapshot_sha256), None)


def split_incident(
    parts: RegroupParts,
    incident_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID],
    reason: str,
    actor: str,
) -> tuple["Incident", "Incident"]:
    """Move ``event_ids`` out of ``incident_id`` into a new incident; returns (the rest, the new one)."""
    why = _check_reason(reason)
    wanted = list(dict.fromkeys(event_ids))
    if not wanted:
        raise ConflictError(f"split of incident {incident_id} names no event to split off")
    now = datetime.now(UTC)
    with parts.database.session(write=True) as session:
        row = lock_incident(session, incident_id)
        _check_open(row)
        stmt = select(EventRow).where(EventRow.incident_id == incident_id)
        events = list(session.scalars(stmt.order_by(EventRow.occurred_at, EventRow.id)))
        present = {event.id for event in events}
        missing = [str(event_id) for event_id in wanted if event_id not in present]
        if missing:
            raise ConflictError(f"events {', '.join(missing)} are not in incident {incident_id}")
        if len(wanted) == len(events):
            raise ConflictError(
                f"cannot split off all {len(events)} events of incident {incident_id}: leave at least one"
            )
        chosen = set(wanted)
        moved = [event_from_row(e) for e in events if e.id in chosen]
        kept = [event_from_row(e) for e in events if e.id not in chosen]
        created = _new_incident(parts, session, row, moved, now)
        session.add(created)
        session.flush()
        session.execute(
            update(EventRow)
            .where(EventRow.id.in_(wanted))
            .values(incident_id=created.id)
            .execution_options(synchronize_session=False)
        )
        _narrow(row, kept)
        last = parts.journal.next_seq(session, 2)
        row.seq, row.updated_at = last - 1, now
        created.seq = last
        moved_ids = [str(event.id) for event in moved]
        detail: dict[str, Any] = {"reason": why, "events": moved_ids, "split_into": str(created.id)}
        add_history(session, incident_id, actor, "split", now, detail=detail)
        add_audit(session, actor, "incident.split", str(incident_id), detail)
        origin = {"reason": why, "events": moved_ids, "split_from": str(incident_id)}
        add_history(session, created.id, actor, "split", now, detail=origin)
        add_audit(session, actor, "incident.split", str(created.id), origin)
        session.flush()
        rest, new = incidents_from_rows(session, [row, created])
    parts.journal.notify(rest)
    parts.journal.notify(new)
    return rest, new


def _new_incident(
    parts: RegroupParts, session: Session, origin: IncidentRow, events: list[Event], now: datetime
) -> IncidentRow:
    """The incident the split-off events form, rated by their own severity rules."""
    first, latest = events[0], max(events, key=lambda event: event.occurred_at)
    cameras = parts.fuser.cameras(session) if parts.fuser.config is not None else None
    decisions = [parts.fuser.severity_of(event, cameras) for event in events]
    top = decisions[0]
    for decision in decisions[1:]:
        if max_severity(top.severity, decision.severity) is not top.severity:
            top = decision
    severity = top.severity
    detectors = [entry for entry in map(detector_entry, events) if entry is not None]
    label = parts.labels.of(session, {first.camera_id})[first.camera_id]
    position = latest.geo or next((e.geo for e in reversed(events) if e.geo is not None), None)
    return IncidentRow(
        id=uuid.uuid4(),
        seq=0,
        title=incident_title(first.rule, first.object_class, label),
        state=IncidentState.NEW.value,
        severity=severity.value,
        classification=origin.classification,
        object_class=first.object_class.value,
        rule=first.rule.value,
        camera_id=first.camera_id,
        center_id=first.center_id,
        sido_code=first.sido_code,
        sigungu_code=first.sigungu_code,
        zone_id=origin.zone_id,
        lat=None if position is None else position.lat,
        lon=None if position is None else position.lon,
        first_seen=first.occurred_at,
        last_seen=latest.occurred_at,
        snapshot_sha256=next((e.snapshot.sha256 for e in events if e.snapshot is not None), None),
        exercise=origin.exercise,
        created_at=now,
        updated_at=now,
        shared_with=list(dict.fromkeys(agency for d in decisions for agency in d.share_with)),
        merged_into=None,
        assignee=None,
        acknowledged_at=None,
        resolved_at=None,
        track_keys=track_keys({(e.camera_id, e.track_id) for e in events}),
        rule_name=first.rule_name,
        camera_name=label,
        severity_reasons=reasons_json(top),
        detectors=[entry for i, entry in enumerate(detectors) if entry not in detectors[:i]],
    )


def _narrow(row: IncidentRow, kept: list[Event]) -> None:
    """The original incident's span, position, tracks, detectors and snapshot from the events it keeps."""
    row.first_seen = kept[0].occurred_at
    latest = max(kept, key=lambda event: event.occurred_at)
    row.last_seen = latest.occurred_at
    position = latest.geo or next((e.geo for e in reversed(kept) if e.geo is not None), None)
    if position is not None:
        row.lat, row.lon = position.lat, position.lon
    row.track_keys = track_keys({(e.camera_id, e.track_id) for e in kept})
    detectors = [entry for entry in map(detector_entry, kept) if entry is not None]
    row.detectors = [entry for i, entry in enumerate(detectors) if entry not in detectors[:i]]
    snapshots = [e.snapshot.sha256 for e in kept if e.snapshot is not None]
    if row.snapshot_sha256 not in snapshots:
        row.snapshot_sha256 = snapshots[0] if snapshots else None
