"""Measuring an exercise from the hub's tables: per inject, how fast each step of the response came.

Only stored rows are read (``incidents``, ``events``, ``incident_history``, ``tasks``, ``agencies``,
``audit_log``), never the workflow's Python API, so any hub's database can be measured after the
fact. Times are seconds after the inject:

- *detected*: the incident's ``first_seen`` (when the edge rule fired);
- *acknowledged*: the first state change out of ``new`` (``incident_history`` kind ``state``);
- *shared* / *tasked* with each required agency: the first ``share`` / ``task.created`` row naming
  an agency of the required code or kind (kinds from ``agencies``);
- *task acknowledged* / *done*: ``task.state`` rows of those tasks;
- *resolved*: the first change to ``resolved``.

An inject is matched to the exercise incidents holding its events (bus injects: the ids are
deterministic) or, for figure injects, to exercise incidents of its camera whose ``first_seen``
falls in the match window; further incidents of the same inject are *duplicates*. Exercise
incidents in the exercise's zones (by their sido) and window that match no inject are *false alarms*.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.exercise.injector import inject_events
from hwarang.exercise.plan import ExercisePlan, PlannedInject
from hwarang.exercise.scenario import AgencyRequirement, EventInject, Expected
from hwarang.geo.regions import default_catalog
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import (
    AgencyRow,
    AuditRow,
    EventRow,
    IncidentHistoryRow,
    IncidentRow,
    TaskRow,
)

MATCH_WINDOW_S = 1800.0
"""How long after a figure inject an incident at its camera still counts as its detection."""
EARLY_SLACK_S = 1.0
"""An incident may start this much before its inject (frame-time rounding)."""
_CHUNK = 500
_CLOSED = ("resolved", "false_alarm")


class AgencyResult(BaseModel):
    """How one required agency was informed and tasked."""

    model_config = ConfigDict(frozen=True)

    requirement: str = Field(description="The required kind or code.")
    agency_code: str | None = Field(description="The agency that was shared with / tasked first.")
    share_due_s: float | None
    task_due_s: float | None
    shared_s: float | None = None
    tasked_s: float | None = None
    task_acknowledged_s: float | None = None
    task_done_s: float | None = None

    @property
    def late(self) -> list[str]:
        """``share`` / ``task`` when that step came after its deadline or never."""
        late = []
        if self.share_due_s is not None and (self.shared_s is None or self.shared_s > self.share_due_s):
            late.append("share")
        if self.task_due_s is not None and (self.tasked_s is None or self.tasked_s > self.task_due_s):
            late.append("task")
        return late


class InjectResult(BaseModel):
    """The measured response to one inject."""

    model_config = ConfigDict(frozen=True)

    inject_id: str
    title: str
    threat: str
    kind: str
    at: AwareDatetime
    zone_id: int
    sido_code: str | None
    sigungu_code: str | None
    local_government_code: str | None
    expected: Expected
    incident_id: uuid.UUID | None = None
    duplicates: int = Field(default=0, description="Further incidents the same inject raised.")
    detected_s: float | None = None
    acknowledged_s: float | None = None
    resolved_s: float | None = None
    closed_as: str | None = Field(default=None, description="resolved or false_alarm, when closed.")
    agencies: tuple[AgencyResult, ...] = ()
    escalations: int = Field(default=0, description="Overdue-task escalations on its incident.")
    audit_complete: bool = Field(
        default=True, description="Every state change and task of its incident has its audit record."
    )

    @property
    def missed(self) -> bool:
        """Never detected (no incident)."""
        return self.incident_id is None

    @property
    def dismissed(self) -> bool:
        """Closed as a false alarm although it was an inject."""
        return self.closed_as == "false_alarm"

    @property
    def late(self) -> list[str]:
        """Steps that came after their deadline or never: detect, acknowledge, share, task, resolve."""
        expected = self.expected
        late = []
        if self.detected_s is None or self.detected_s > expected.detect_within_s:
            late.append("detect")
        if self.acknowledged_s is None or self.acknowledged_s > expected.acknowledge_within_s:
            late.append("acknowledge")
        for step in ("share", "task"):
            if any(step in agency.late for agency in self.agencies):
                late.append(step)
        due = expected.resolve_within_s
        if due is not None and (self.resolved_s is None or self.resolved_s > due):
            late.append("resolve")
        return late

    def links(self) -> dict[str, float]:
        """Seconds spent on each link of the chain that was completed."""
        links: dict[str, float] = {}
        if self.detected_s is not None:
            links["inject→detect"] = self.detected_s
            if self.acknowledged_s is not None:
                links["detect→acknowledge"] = self.acknowledged_s - self.detected_s
        if self.acknowledged_s is not None:
            tasked = [a.tasked_s for a in self.agencies if a.tasked_s is not None]
            shared = [a.shared_s for a in self.agencies if a.shared_s is not None]
            if shared:
                links["acknowledge→share"] = max(max(shared) - self.acknowledged_s, 0.0)
            if tasked:
                links["acknowledge→task"] = max(max(tasked) - self.acknowledged_s, 0.0)
            if self.resolved_s is not None:
                links["acknowledge→resolve"] = self.resolved_s - self.acknowledged_s
        task_acks = [
            a.task_acknowledged_s - a.tasked_s
            for a in self.agencies
            if a.task_acknowledged_s is not None and a.tasked_s is not None
        ]
        if task_acks:
            links["task→agency acknowledge"] = max(task_acks)
        return links


class FalseAlarm(BaseModel):
    """An exercise incident that no inject explains."""

    model_config = ConfigDict(frozen=True)

    incident_id: uuid.UUID
    camera_id: str
    zone_id: int | None
    sido_code: str
    sigungu_code: str
    first_seen: AwareDatetime
    state: str
    closed_s: float | None = Field(description="Seconds from first_seen to being closed, if closed.")


class AgencyInfo(BaseModel):
    """A registered agency, as the report names it."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    kind: str


class Measurement(BaseModel):
    """Everything measured about one exercise."""

    exercise: str
    start: AwareDatetime
    end: AwareDatetime
    measured_at: AwareDatetime
    injects: list[InjectResult]
    false_alarms: list[FalseAlarm]
    agencies: dict[str, AgencyInfo] = Field(default_factory=dict)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds()


class _Tables:
    """The rows of one exercise, read once."""

    def __init__(self, session: Session, plan: ExercisePlan, slack: timedelta) -> None:
        stmt = select(IncidentRow).where(
            IncidentRow.exercise.is_(True),
            IncidentRow.first_seen >= plan.start - slack,
            IncidentRow.first_seen <= plan.end,
        )
        self.incidents = {row.id: row for row in session.scalars(stmt.order_by(IncidentRow.first_seen))}
        ids = list(self.incidents)
        self.event_incident: dict[uuid.UUID, uuid.UUID] = {}
        self.history: dict[uuid.UUID, list[IncidentHistoryRow]] = defaultdict(list)
        self.tasks: dict[uuid.UUID, list[TaskRow]] = defaultdict(list)
        self.transition_audits: dict[str, int] = defaultdict(int)
        self.task_audits: set[str] = set()
        for chunk in _chunks(ids):
            for event_id, incident_id in session.execute(
                select(EventRow.id, EventRow.incident_id).where(EventRow.incident_id.in_(chunk))
            ):
                if incident_id is not None:
                    self.event_incident[event_id] = incident_id
            rows = session.scalars(
                select(IncidentHistoryRow)
                .where(IncidentHistoryRow.incident_id.in_(chunk))
                .order_by(IncidentHistoryRow.at, IncidentHistoryRow.id)
            )
            for row in rows:
                self.history[row.incident_id].append(row)
            for task in session.scalars(select(TaskRow).where(TaskRow.incident_id.in_(chunk))):
                self.tasks[task.incident_id].append(task)
            targets = [f"incident:{i}" for i in chunk]
            audit = select(AuditRow.target).where(
                AuditRow.action == "incident.transition", AuditRow.target.in_(targets)
            )
            for (target,) in session.execute(audit):
                self.transition_audits[target] += 1
        task_targets = [f"task:{t.id}" for tasks in self.tasks.values() for t in tasks]
        for chunk in _chunks(task_targets):
            audit = select(AuditRow.target).where(
                AuditRow.action == "task.create", AuditRow.target.in_(chunk)
            )
            self.task_audits.update(target for (target,) in session.execute(audit))
        self.agencies = {
            row.code: AgencyInfo(code=row.code, name=row.name, kind=row.kind)
            for row in session.scalars(select(AgencyRow))
        }

    def final(self, incident_id: uuid.UUID) -> uuid.UUID:
        """Follow merges to the incident the work continued on."""
        seen = {incident_id}
        row = self.incidents.get(incident_id)
        while row is not None and row.merged_into is not None and row.merged_into not in seen:
            target: uuid.UUID = row.merged_into
            seen.add(target)
            incident_id = target
            row = self.incidents.get(target)
        return incident_id

    def audit_complete(self, incident_id: uuid.UUID) -> bool:
        states = sum(1 for row in self.history[incident_id] if row.kind == "state")
        tasks = self.tasks.get(incident_id, [])
        return self.transition_audits[f"incident:{incident_id}"] >= states and all(
            f"task:{t.id}" in self.task_audits for t in tasks
        )


def _matches(requirement: AgencyRequirement, code: str | None, agencies: dict[str, AgencyInfo]) -> bool:
    if code is None:
        return False
    if requirement.code is not None:
        return code == requirement.code
    info = agencies.get(code)
    return info is not None and requirement.kind is not None and info.kind == requirement.kind.value


def _agency_result(
    requirement: AgencyRequirement, history: list[IncidentHistoryRow], tables: _Tables, at: datetime
) -> AgencyResult:
    shared = tasked = None
    agency_code = None
    task_ids: set[str] = set()
    for row in history:
        code = (row.detail or {}).get("agency_code")
        if not _matches(requirement, code, tables.agencies):
            continue
        if row.kind == "share" and shared is None:
            shared, agency_code = row.at, agency_code or code
        elif row.kind == "task.created":
            tasked = tasked or row.at
            agency_code = agency_code or code
            task_ids.add(str((row.detail or {}).get("task_id")))
    acknowledged = done = None
    for row in history:
        if row.kind == "task.state" and str((row.detail or {}).get("task_id")) in task_ids:
            if row.to_state == "acknowledged" and acknowledged is None:
                acknowledged = row.at
            elif row.to_state == "done" and done is None:
                done = row.at
    return AgencyResult(
        requirement=requirement.label,
        agency_code=agency_code,
        share_due_s=requirement.share_within_s,
        task_due_s=requirement.task_within_s,
        shared_s=_seconds(shared, at),
        tasked_s=_seconds(tasked, at),
        task_acknowledged_s=_seconds(acknowledged, at),
        task_done_s=_seconds(done, at),
    )


def _result(inject: PlannedInject, matched: list[uuid.UUID], tables: _Tables) -> InjectResult:
    base: dict[str, Any] = {
        "inject_id": inject.id,
        "title": inject.title,
        "threat": inject.threat.value,
        "kind": inject.kind,
        "at": inject.at,
        "zone_id": inject.zone_id,
        "sido_code": inject.sido_code,
        "sigungu_code": inject.sigungu_code,
        "local_government_code": inject.local_government_code,
        "expected": inject.expected,
    }
    if not matched:
        return InjectResult(**base)
    first = tables.incidents[matched[0]]
    work_id = tables.final(first.id)
    history = tables.history[first.id] + ([] if work_id == first.id else tables.history[work_id])
    states = [row for row in history if row.kind == "state"]
    acknowledged = next((row.at for row in states if row.from_state == "new"), first.acknowledged_at)
    resolved = next((row.at for row in states if row.to_state == "resolved"), None)
    work = tables.incidents.get(work_id, first)
    closed = work.state if work.state in _CLOSED else None
    return InjectResult(
        **base,
        incident_id=first.id,
        duplicates=len(matched) - 1,
        detected_s=_seconds(first.first_seen, inject.at),
        acknowledged_s=_seconds(acknowledged, inject.at),
        resolved_s=_seconds(resolved, inject.at),
        closed_as=closed,
        agencies=tuple(_agency_result(r, history, tables, inject.at) for r in inject.expected.agencies),
        escalations=sum(1 for row in history if row.kind == "task.escalated"),
        audit_complete=tables.audit_complete(first.id) and tables.audit_complete(work_id),
    )


def _candidates(inject: PlannedInject, tables: _Tables, window: timedelta) -> list[uuid.UUID]:
    if isinstance(inject.action, EventInject):
        ids = {m.event.id for m in inject_events(inject)}
        found = {tables.event_incident[i] for i in ids if i in tables.event_incident}
        return sorted(found, key=lambda i: (tables.incidents[i].first_seen, str(i)))
    early = inject.at - timedelta(seconds=EARLY_SLACK_S)
    return [
        row.id
        for row in tables.incidents.values()
        if row.camera_id == inject.camera_id and early <= row.first_seen <= inject.at + window
    ]


def _default_zone_of(sido_code: str) -> int | None:
    zone = default_catalog().zones().zone_for_sido(sido_code)
    return None if zone is None else zone.id


def measure(
    database: Database,
    plan: ExercisePlan,
    *,
    measured_at: datetime,
    match_window_s: float = MATCH_WINDOW_S,
    zone_of: Callable[[str], int | None] = _default_zone_of,
) -> Measurement:
    """Measure every inject of ``plan`` and find the false alarms, from ``database``'s tables.

    ``zone_of`` maps a sido code to its exercise zone (the hub may not have recorded zones).
    """
    window = timedelta(seconds=match_window_s)
    with database.session() as session:
        tables = _Tables(session, plan, timedelta(seconds=EARLY_SLACK_S))
    claimed: set[uuid.UUID] = set()
    results = []
    for inject in plan.injects:
        matched = [i for i in _candidates(inject, tables, window) if i not in claimed]
        claimed.update(matched)
        results.append(_result(inject, matched, tables))
    zones = set(plan.zones)
    false_alarms = []
    for row in tables.incidents.values():
        zone_id = row.zone_id if row.zone_id is not None else zone_of(row.sido_code)
        if zone_id not in zones or row.id in claimed or row.merged_into in claimed:
            continue
        closes = (h.at for h in tables.history[row.id] if h.kind == "state" and h.to_state in _CLOSED)
        closed = next(closes, None)
        false_alarms.append(
            FalseAlarm(
                incident_id=row.id,
                camera_id=row.camera_id,
                zone_id=zone_id,
                sido_code=row.sido_code,
                sigungu_code=row.sigungu_code,
                first_seen=row.first_seen,
                state=row.state,
                closed_s=_seconds(closed, row.first_seen),
            )
        )
    return Measurement(
        exercise=plan.name,
        start=plan.start,
        end=plan.end,
        measured_at=measured_at,
        injects=results,
        false_alarms=false_alarms,
        agencies=tables.agencies,
    )
