"""Rows of an ingest batch as plain values, written with one statement per table.

Fusion (:mod:`hwarang.hub.fusion.correlation`) decides, event by event, whether an event opens an incident or
joins one; :class:`IngestBatch` turns those decisions into rows and writes them in the caller's
transaction (:mod:`hwarang.hub.store.bulk_write`: COPY and one ``UPDATE ... FROM unnest`` on
PostgreSQL, executemany on SQLite): new incidents, joined incidents, events,
``incident_history`` ('created', 'event.added') and audit records (:func:`add_audits`, the one
place audit rows of ingest are written). The ORM's unit of work costs more per row than the
database does, hence plain values.
"""

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hwarang.domain import (
    Classification,
    Event,
    GeoPoint,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
    SeverityReason,
)
from hwarang.hub.evidence.audit import add_audits
from hwarang.hub.fusion.correlation import Match, OpenIncident
from hwarang.hub.fusion.severity import SEVERITY_ORDER, SeverityDecision
from hwarang.hub.store.bulk_write import insert_rows, update_rows
from hwarang.hub.store.mapping import detector_models, is_motion_only
from hwarang.hub.store.models import HUB_STATE_ID, EventRow, HubStateRow, IncidentHistoryRow, IncidentRow

INGEST_ACTOR = "system:ingest"
_REASON_CACHE_SIZE = 4096
_REASONS: dict[tuple[Any, tuple[tuple[Any, Any], ...]], SeverityReason] = {}
CLOSED_STATES = (IncidentState.RESOLVED.value, IncidentState.FALSE_ALARM.value)
"""Incidents in these states never take new events."""

EventList = tuple[tuple[uuid.UUID, ...], datetime]
"""An incident's event ids, oldest first (by occurred_at, then id), and when the newest happened."""

_INCIDENTS = cast(Table, IncidentRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)
_HISTORY = cast(Table, IncidentHistoryRow.__table__)
_MOVED = ("seq", "first_seen", "last_seen", "lat", "lon", "track_keys", "updated_at")
"""Columns every join changes."""
_RATED = ("severity", "shared_with", "snapshot_sha256", "severity_reasons", "detectors")
"""Columns a join changes now and then (written only for the incidents where they changed)."""


_ORDER = {severity.value: rank for severity, rank in SEVERITY_ORDER.items()}


def incident_title(rule: RuleKind, object_class: ObjectClass, camera_label: str) -> str:
    """E.g. ``"Zone intrusion · person · North gate"``."""
    rule_label = rule.value.replace("_", " ").capitalize()
    return f"{rule_label} · {object_class.value.replace('_', ' ')} · {camera_label}"


def detector_entry(event: Event) -> dict[str, Any] | None:
    """The JSON form of an event's detector in an incident's ``detectors`` (None: unknown)."""
    detector = event.detector
    return None if detector is None else {"kind": detector.kind, "model": detector.model}


def reasons_json(decision: SeverityDecision) -> list[dict[str, Any]]:
    """The JSON form of a decision's reasons (an incident's ``severity_reasons``)."""
    return [{"code": reason.code.value, "params": dict(reason.params)} for reason in decision.reasons]


def track_keys(tracks: Iterable[tuple[str, int]]) -> list[list[Any]]:
    """The JSON form of an incident's (camera, track) pairs, sorted."""
    return [[camera, track] for camera, track in sorted(tracks)]


def current_seq(session: Session) -> int:
    """The newest committed incident change seq (``hub_state.last_seq``)."""
    value = session.scalar(select(HubStateRow.last_seq).where(HubStateRow.id == HUB_STATE_ID))
    return int(value or 0)


def open_incidents_since(session: Session, start: datetime) -> list[dict[str, Any]]:
    """Column values of every open incident seen at or after ``start`` (``last_seen`` is indexed)."""
    stmt = select(_INCIDENTS).where(
        _INCIDENTS.c.last_seen >= start,
        _INCIDENTS.c.merged_into.is_(None),
        _INCIDENTS.c.state.not_in(CLOSED_STATES),
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def changed_since(session: Session, seq: int) -> list[dict[str, Any]]:
    """Column values of every incident changed after ``seq`` (``seq`` is indexed), oldest change first."""
    stmt = select(_INCIDENTS).where(_INCIDENTS.c.seq > seq).order_by(_INCIDENTS.c.seq)
    return [dict(row._mapping) for row in session.execute(stmt)]


def is_open(values: Mapping[str, Any]) -> bool:
    """True when an incident may still take events: not resolved, not a false alarm, not merged."""
    return values["state"] not in CLOSED_STATES and values["merged_into"] is None


def lock_incidents(
    session: Session, incident_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, bool]]:
    """Lock incidents until commit (``FOR UPDATE``, in id order): each one's seq and whether it is open."""
    if not incident_ids:
        return {}
    columns = (_INCIDENTS.c.id, _INCIDENTS.c.seq, _INCIDENTS.c.state, _INCIDENTS.c.merged_into)
    stmt = select(*columns).where(_INCIDENTS.c.id.in_(sorted(incident_ids))).order_by(_INCIDENTS.c.id)
    return {
        incident_id: (int(seq), state not in CLOSED_STATES and merged_into is None)
        for incident_id, seq, state, merged_into in session.execute(stmt.with_for_update())
    }


def open_incident(values: Mapping[str, Any]) -> OpenIncident:
    """What fusion needs of an incident's column values (a fresh object: fusion changes it)."""
    lat, lon = values["lat"], values["lon"]
    return OpenIncident(
        id=values["id"],
        camera_id=values["camera_id"],
        object_class=ObjectClass(values["object_class"]),
        exercise=bool(values["exercise"]),
        sigungu_code=str(values["sigungu_code"]),
        first_seen=values["first_seen"],
        last_seen=values["last_seen"],
        geo=None if lat is None or lon is None else GeoPoint(lat=lat, lon=lon),
        tracks={(str(camera), int(track)) for camera, track in values["track_keys"] or ()},
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One event of the batch: the incident it opened (``match`` None) or joined, and its severity."""

    event: Event
    incident_id: uuid.UUID
    match: Match | None
    decision: SeverityDecision


@dataclass(slots=True)
class IngestBatch:
    """The incidents a batch opens or changes, and every row the batch writes.

    Use: :meth:`open` or :meth:`join` per event, :meth:`complete` with the values of the stored
    incidents joined, :meth:`number`, :meth:`insert`, then :meth:`incidents` for listeners.
    """

    now: datetime
    history: bool = True
    """Write 'created' / 'event.added' rows to ``incident_history``."""
    steps: list[Step] = field(default_factory=list)
    touched: dict[uuid.UUID, OpenIncident] = field(default_factory=dict)
    """Every incident opened or joined, as fusion leaves it, in the order the batch first touched it."""
    new: set[uuid.UUID] = field(default_factory=set)
    values: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    """Column values of the touched incidents (new ones from :meth:`open`, all after :meth:`complete`)."""
    rated: set[uuid.UUID] = field(default_factory=set)
    """Stored incidents whose severity, sharing or snapshot the batch changed."""

    @property
    def stored(self) -> list[uuid.UUID]:
        """Ids of the stored (not new) incidents the batch joins."""
        return [incident_id for incident_id in self.touched if incident_id not in self.new]

    def open(
        self,
        event: Event,
        incident: OpenIncident,
        decision: SeverityDecision,
        *,
        title: str,
        zone_id: int | None,
        camera_name: str | None = None,
    ) -> None:
        """``event`` opens ``incident`` (just created by fusion)."""
        detector = detector_entry(event)
        self.new.add(incident.id)
        self.touched[incident.id] = incident
        self.values[incident.id] = {
            "id": incident.id,
            "seq": 0,
            "title": title,
            "state": IncidentState.NEW.value,
            "severity": decision.severity.value,
            "classification": Classification.RESTRICTED.value,
            "object_class": event.object_class.value,
            "rule": event.rule.value,
            "camera_id": event.camera_id,
            "center_id": event.center_id,
            "sido_code": event.sido_code,
            "sigungu_code": event.sigungu_code,
            "zone_id": zone_id,
            "lat": None,
            "lon": None,
            "first_seen": event.occurred_at,
            "last_seen": event.occurred_at,
            "snapshot_sha256": None if event.snapshot is None else event.snapshot.sha256,
            "exercise": event.exercise,
            "created_at": self.now,
            "updated_at": self.now,
            "shared_with": list(decision.share_with),
            "merged_into": None,
            "assignee": None,
            "acknowledged_at": None,
            "resolved_at": None,
            "track_keys": [],
            "rule_name": event.rule_name,
            "camera_name": camera_name,
            "severity_reasons": reasons_json(decision),
            "detectors": [] if detector is None else [detector],
        }
        self.steps.append(Step(event, incident.id, None, decision))

    def join(self, event: Event, incident: OpenIncident, decision: SeverityDecision, match: Match) -> None:
        """``event`` joins ``incident`` (already updated by fusion)."""
        self.touched.setdefault(incident.id, incident)
        self.steps.append(Step(event, incident.id, match, decision))

    def complete(self, stored: Mapping[uuid.UUID, Mapping[str, Any]]) -> None:
        """Fold every join into the incidents' values; ``stored``: values of :attr:`stored` incidents."""
        for incident_id in self.stored:
            self.values[incident_id] = dict(stored[incident_id])
        for step in self.steps:
            if step.match is not None:
                self._rate(step)
        for incident_id, incident in self.touched.items():
            values, geo = self.values[incident_id], incident.geo
            values["first_seen"], values["last_seen"] = incident.first_seen, incident.last_seen
            values["lat"], values["lon"] = (None, None) if geo is None else (geo.lat, geo.lon)
            values["track_keys"] = list(incident.tracks)  # (camera, track) pairs: JSON arrays
            values["updated_at"] = self.now

    def _rate(self, step: Step) -> None:
        """Raise severity, widen sharing and fill in the snapshot of a joined incident."""
        values, decision = self.values[step.incident_id], step.decision
        severity = decision.severity.value
        if _ORDER[severity] > _ORDER[values["severity"]]:
            values["severity"] = severity
            values["severity_reasons"] = reasons_json(decision)
            self.rated.add(step.incident_id)
        detector = detector_entry(step.event)
        detectors = values.get("detectors") or []
        if detector is not None and detector not in detectors:
            values["detectors"] = [*detectors, detector]
            self.rated.add(step.incident_id)
        shared = values["shared_with"] or []
        added = [agency for agency in decision.share_with if agency not in shared]
        if added:
            values["shared_with"] = [*shared, *dict.fromkeys(added)]
            self.rated.add(step.incident_id)
        if values["snapshot_sha256"] is None and step.event.snapshot is not None:
            values["snapshot_sha256"] = step.event.snapshot.sha256
            self.rated.add(step.incident_id)

    def number(self, last_seq: int) -> None:
        """Give the touched incidents the ``len(touched)`` seqs ending at ``last_seq``, in touch order."""
        first_seq = last_seq - len(self.touched) + 1
        for seq, incident_id in enumerate(self.touched, start=first_seq):
            self.values[incident_id]["seq"] = seq

    def insert(self, session: Session) -> None:
        """Write every row in ``session``'s transaction (incidents first: events refer to them)."""
        created = [self.values[incident_id] for incident_id in self.touched if incident_id in self.new]
        joined = [self.values[incident_id] for incident_id in self.stored]
        insert_rows(session, _INCIDENTS, created)
        update_rows(session, _INCIDENTS, "id", _MOVED, joined)
        rated = [self.values[incident_id] for incident_id in self.stored if incident_id in self.rated]
        update_rows(session, _INCIDENTS, "id", _RATED, rated)
        insert_rows(session, _EVENTS, [self._event_row(step) for step in self.steps])
        done = [(step, self._detail(step)) for step in self.steps]
        if self.history:
            insert_rows(session, _HISTORY, [self._history_row(step, detail) for step, detail in done])
        add_audits(session, [self._audit_row(step, detail) for step, detail in done])  # the one audit write

    def incidents(
        self, session: Session, known: Callable[[uuid.UUID], EventList | None]
    ) -> tuple[dict[uuid.UUID, Incident], dict[uuid.UUID, EventList]]:
        """The incidents as this batch leaves them, and their events.

        ``known`` gives the events a stored incident had when it was read (None: unknown). When the
        batch's events of it all happened later, they are appended; otherwise (and when unknown)
        its events are read, for all such incidents in one query.
        """
        added: dict[uuid.UUID, list[tuple[datetime, uuid.UUID]]] = {}
        for step in self.steps:
            added.setdefault(step.incident_id, []).append((step.event.occurred_at, step.event.id))
        events: dict[uuid.UUID, EventList] = {}
        unknown: list[uuid.UUID] = []
        for incident_id in self.touched:
            pairs = sorted(added[incident_id])
            before = None if incident_id in self.new else known(incident_id)
            if incident_id in self.new:
                events[incident_id] = (tuple(e for _, e in pairs), pairs[-1][0])
            elif before is not None and pairs[0][0] > before[1]:
                events[incident_id] = (before[0] + tuple(e for _, e in pairs), pairs[-1][0])
            else:
                unknown.append(incident_id)
        if unknown:
            read: dict[uuid.UUID, list[tuple[datetime, uuid.UUID]]] = {}
            stmt = select(EventRow.incident_id, EventRow.occurred_at, EventRow.id)
            for owner, occurred_at, event_id in session.execute(
                stmt.where(EventRow.incident_id.in_(unknown))
            ):
                if owner is not None:
                    read.setdefault(owner, []).append((occurred_at, event_id))
            for incident_id, pairs in read.items():
                pairs.sort()
                events[incident_id] = (tuple(e for _, e in pairs), pairs[-1][0])
        incidents = {
            incident_id: incident_from_values(self.values[incident_id], events[incident_id][0])
            for incident_id in self.touched
        }
        return incidents, events

    def _event_row(self, step: Step) -> dict[str, Any]:
        event = step.event
        return {
            "id": event.id,
            "camera_id": event.camera_id,
            "center_id": event.center_id,
            "sido_code": event.sido_code,
            "sigungu_code": event.sigungu_code,
            "occurred_at": event.occurred_at,
            "received_at": self.now,
            "object_class": event.object_class.value,
            "confidence": event.confidence,
            "rule": event.rule.value,
            "rule_name": event.rule_name,
            "track_id": event.track_id,
            "lat": None if event.geo is None else event.geo.lat,
            "lon": None if event.geo is None else event.geo.lon,
            "snapshot_sha256": None if event.snapshot is None else event.snapshot.sha256,
            "exercise": event.exercise,
            "payload": event.model_dump(mode="json"),
            "incident_id": step.incident_id,
        }

    def _detail(self, step: Step) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "seq": self.values[step.incident_id]["seq"],
            "event_id": str(step.event.id),
            "camera_id": step.event.camera_id,
            "severity": step.decision.severity.value,
            "exercise": step.event.exercise,
        }
        if step.decision.rules:
            detail["severity_rules"] = list(step.decision.rules)
        if step.match is not None:
            detail["score"] = step.match.score
            detail["reasons"] = list(step.match.reasons)
        return detail

    def _history_row(self, step: Step, detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "incident_id": step.incident_id,
            "at": self.now,
            "actor": INGEST_ACTOR,
            "kind": "created" if step.match is None else "event.added",
            "from_state": None,
            "to_state": None,
            "detail": detail,
        }

    def _audit_row(self, step: Step, detail: dict[str, Any]) -> dict[str, Any]:
        """The audit record: the history detail without the fusion reasons (the history keeps them)."""
        short = {key: value for key, value in detail.items() if key != "reasons"}
        return {
            "at": self.now,
            "actor": INGEST_ACTOR,
            "action": "incident.create" if step.match is None else "incident.event_add",
            "target": str(step.incident_id),
            "detail": short,
        }


def stored_reason(reason: Mapping[str, Any]) -> SeverityReason:
    """A severity reason of a stored incident row, validated once per distinct reason.

    Reasons are immutable values and few distinct ones occur (codes with area, rule and cap names), so
    the open-incident mirror, which rebuilds each incident an ingest batch touches, shares them.
    """
    params = reason.get("params") or {}
    key = (reason["code"], tuple(params.items()))
    found = _REASONS.get(key)
    if found is None:
        found = SeverityReason.model_validate(reason)
        if len(_REASONS) >= _REASON_CACHE_SIZE:
            _REASONS.clear()
        _REASONS[key] = found
    return found


def incident_from_values(values: Mapping[str, Any], event_ids: tuple[uuid.UUID, ...]) -> Incident:
    """The domain incident of an incidents row's column values (typed here; not validated again)."""
    lat, lon = values["lat"], values["lon"]
    return Incident.model_construct(
        id=values["id"],
        seq=values["seq"],
        title=values["title"],
        state=IncidentState(values["state"]),
        severity=Severity(values["severity"]),
        classification=Classification(values["classification"]),
        object_class=ObjectClass(values["object_class"]),
        rule=RuleKind(values["rule"]),
        camera_id=values["camera_id"],
        center_id=values["center_id"],
        sido_code=values["sido_code"],
        sigungu_code=values["sigungu_code"],
        zone_id=values["zone_id"],
        geo=None if lat is None or lon is None else GeoPoint(lat=lat, lon=lon),
        first_seen=values["first_seen"],
        last_seen=values["last_seen"],
        event_ids=event_ids,
        snapshot_sha256=values["snapshot_sha256"],
        exercise=values["exercise"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        shared_with=tuple(values["shared_with"] or ()),
        merged_into=values["merged_into"],
        assignee=values["assignee"],
        acknowledged_at=values["acknowledged_at"],
        resolved_at=values["resolved_at"],
        rule_name=values.get("rule_name"),
        camera_name=values.get("camera_name"),
        severity_reasons=tuple(stored_reason(reason) for reason in values.get("severity_reasons") or ()),
        motion_only=is_motion_only(values.get("detectors")),
        detector_models=detector_models(values.get("detectors")),
    )
