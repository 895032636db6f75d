"""Operator drills: levelled scenarios for one operator, graded from their own actions, and certificates.

A drill is an ordinary scenario (:func:`drill_scenario`) injected in the trainee's local government:
level 1 is one threat to acknowledge and report; level 2 two threats minutes apart, each to be
acknowledged, shared and tasked; level 3 three threats at once with tighter deadlines. Grading
(:func:`grade_drill`) measures the drill like any exercise and scores the operator's checklist items
(:data:`DRILL_CHECKLIST`), but a step counts only when the trainee took it: steps taken by someone
else are removed before scoring. Passing needs the level's pass score. Certificates are kept per
person and level in an append-only JSON-lines file (:class:`CertificationStore`); a level may be
attempted once the one below is passed.
"""

import json
import threading
from datetime import datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from hwarang.domain import AgencyKind
from hwarang.exercise.checklist import DEFAULT_CHECKLIST, Metric
from hwarang.exercise.measurement import AgencyResult, InjectResult, Measurement, measure
from hwarang.exercise.plan import ExercisePlan
from hwarang.exercise.scenario import (
    AgencyRequirement,
    EventInject,
    Expected,
    Inject,
    Place,
    Scenario,
    ThreatType,
)
from hwarang.exercise.scoring import evaluate
from hwarang.geo.regions import RegionCatalog
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentHistoryRow


class DrillLevel(BaseModel):
    """What a drill level asks of the trainee."""

    model_config = ConfigDict(frozen=True)

    level: int = Field(ge=1)
    name_ko: str
    name_en: str
    threats: tuple[ThreatType, ...] = Field(description="One inject per threat.")
    spacing_s: float = Field(ge=0.0, description="Seconds between injects.")
    expected: Expected
    pass_score: float = Field(ge=0.0, le=100.0)


def _agencies(*kinds: AgencyKind, share_s: float, task_s: float) -> list[AgencyRequirement]:
    return [AgencyRequirement(kind=kind, share_within_s=share_s, task_within_s=task_s) for kind in kinds]


_POLICE, _MILITARY, _FIRE = AgencyKind.POLICE, AgencyKind.MILITARY, AgencyKind.FIRE
DRILL_LEVELS: dict[int, DrillLevel] = {
    1: DrillLevel(
        level=1,
        name_ko="기본: 상황 접수와 보고",
        name_en="Basic: acknowledge and report",
        threats=(ThreatType.ARMED_INTRUDER,),
        spacing_s=0.0,
        pass_score=70.0,
        expected=Expected(acknowledge_within_s=180, agencies=_agencies(_POLICE, share_s=600, task_s=900)),
    ),
    2: DrillLevel(
        level=2,
        name_ko="중급: 전파와 임무 부여",
        name_en="Intermediate: inform and task",
        threats=(ThreatType.VEHICLE_BORNE, ThreatType.DRONE),
        spacing_s=300.0,
        pass_score=75.0,
        expected=Expected(
            acknowledge_within_s=120,
            resolve_within_s=2700,
            agencies=_agencies(_POLICE, _MILITARY, share_s=300, task_s=480),
        ),
    ),
    3: DrillLevel(
        level=3,
        name_ko="고급: 동시 다발 상황",
        name_en="Advanced: simultaneous threats",
        threats=(ThreatType.CROWDED_PLACE_TERROR, ThreatType.ARMED_INTRUDER, ThreatType.DRONE),
        spacing_s=20.0,
        pass_score=80.0,
        expected=Expected(
            acknowledge_within_s=90,
            resolve_within_s=2700,
            agencies=_agencies(_POLICE, _MILITARY, _FIRE, share_s=240, task_s=360),
        ),
    ),
}
"""The drill levels, easiest first."""


DRILL_CHECKLIST = tuple(
    item for item in DEFAULT_CHECKLIST if item.metric in (Metric.ACKNOWLEDGE, Metric.SHARE, Metric.TASK,
                                                           Metric.RESOLVE, Metric.JUDGEMENT)
)  # fmt: skip
"""What a trainee is graded on: their own steps (detection is the edge's, task receipt the agency's)."""


class DrillError(Exception):
    """A drill cannot be planned, graded or certified (unknown level, a level not yet open)."""


def drill_level(level: int) -> DrillLevel:
    """The level's definition; DrillError for an unknown level."""
    if level not in DRILL_LEVELS:
        raise DrillError(f"unknown drill level {level}; levels are {', '.join(map(str, DRILL_LEVELS))}")
    return DRILL_LEVELS[level]


def drill_scenario(
    level: int, sigungu: str, username: str, start: datetime, catalog: RegionCatalog
) -> Scenario:
    """The scenario of a drill for ``username`` in local government ``sigungu`` (run it like any other)."""
    spec = drill_level(level)
    zone = catalog.zones().zone_for_sido(sigungu[:2])
    if zone is None:
        raise DrillError(f"local government {sigungu} is in no exercise zone")
    injects = [
        Inject(
            id=f"drill{level}-{n}",
            at=60.0 + n * spec.spacing_s,
            title=f"{spec.name_ko} #{n + 1}",
            threat=threat,
            place=Place(sigungu=sigungu, camera=f"drill-{username.lower()}-{n + 1}"[:64].replace(".", "-")),
            inject=EventInject(type="event"),
            expected=spec.expected,
        )
        for n, threat in enumerate(spec.threats)
    ]
    return Scenario(
        name=f"drill level {level} ({spec.name_en}) for {username}",
        zones=[zone.id],
        start=start,
        duration=4 * 3600.0,
        injects=injects,
    )


class DrillResult(BaseModel):
    """A graded drill."""

    username: str
    level: int
    drill: str
    graded_at: AwareDatetime
    score: float
    passed: bool
    own_actions: int = Field(description="Workflow steps the trainee took on the drill's incidents.")
    others_actions: int = Field(description="Steps by other people (they do not count).")
    weakest: list[str] = Field(
        default_factory=list, description="Checklist items below the pass score, weakest first."
    )


def _own_times(result: InjectResult, by_trainee: set[tuple[str, float]]) -> InjectResult:
    """The result with every step the trainee did not take removed."""

    def mine(step: str, seconds: float | None) -> float | None:
        return seconds if seconds is not None and (step, seconds) in by_trainee else None

    agencies = tuple(
        AgencyResult(
            **{
                **agency.model_dump(),
                "shared_s": mine("share", agency.shared_s),
                "tasked_s": mine("task", agency.tasked_s),
            }
        )
        for agency in result.agencies
    )
    return result.model_copy(
        update={
            "acknowledged_s": mine("state", result.acknowledged_s),
            "resolved_s": mine("state", result.resolved_s),
            "agencies": agencies,
        }
    )


def grade_drill(
    database: Database,
    plan: ExercisePlan,
    username: str,
    level: int,
    catalog: RegionCatalog,
    *,
    graded_at: datetime,
) -> DrillResult:
    """Measure the drill and score only the trainee's own steps against the level's pass score."""
    spec = drill_level(level)
    measurement = measure(database, plan, measured_at=graded_at)
    starts = {r.incident_id: r.at for r in measurement.injects if r.incident_id is not None}
    own = others = 0
    by_trainee: dict[object, set[tuple[str, float]]] = {incident: set() for incident in starts}
    kinds = {"state": "state", "share": "share", "task.created": "task"}
    with database.session() as session:
        rows = session.scalars(
            select(IncidentHistoryRow).where(IncidentHistoryRow.incident_id.in_(list(starts)))
        )
        for row in rows:
            if row.kind not in kinds or row.actor.startswith("system:"):
                continue
            if row.actor == username:
                own += 1
                seconds = (row.at - starts[row.incident_id]).total_seconds()
                by_trainee[row.incident_id].add((kinds[row.kind], seconds))
            else:
                others += 1
    injects = [
        _own_times(r, by_trainee[r.incident_id]) if r.incident_id is not None else r
        for r in measurement.injects
    ]
    graded = Measurement(**{**measurement.model_dump(), "injects": injects})
    evaluation = evaluate(graded, catalog, generated_at=graded_at, checklist=DRILL_CHECKLIST)
    items: dict[str, list[float]] = {}
    for score in evaluation.scores.get("zone", []):
        for item, value in score.items.items():
            items.setdefault(item, []).append(value.score)
    low = [item for item, values in items.items() if min(values) < spec.pass_score]
    weakest = sorted(low, key=lambda item: (min(items[item]), item))
    return DrillResult(
        username=username,
        level=level,
        drill=plan.name,
        graded_at=graded_at,
        score=evaluation.overall,
        passed=evaluation.overall >= spec.pass_score,
        own_actions=own,
        others_actions=others,
        weakest=weakest,
    )


class CertificationStore:
    """Drill results per person, appended to a JSON-lines file (one record per graded drill)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def records(self, username: str | None = None) -> list[DrillResult]:
        """Every graded drill (of one person), oldest first; DrillError names a bad line."""
        if not self.path.is_file():
            return []
        found = []
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = DrillResult.model_validate_json(line)
                except ValidationError as exc:
                    raise DrillError(
                        f"{self.path}:{number}: not a drill record: {exc.errors()[0]['msg']}"
                    ) from None
                if username is None or record.username == username:
                    found.append(record)
        return found

    def certified_level(self, username: str) -> int:
        """The highest level passed with every level below it passed too (0: none)."""
        passed = {r.level for r in self.records(username) if r.passed}
        level = 0
        while level + 1 in passed:
            level += 1
        return level

    def check_open(self, username: str, level: int) -> None:
        """DrillError unless ``username`` may attempt ``level`` (the one below is passed)."""
        drill_level(level)
        certified = self.certified_level(username)
        if level > certified + 1:
            raise DrillError(
                f"{username} holds level {certified}; pass level {certified + 1} before level {level}"
            )

    def add(self, result: DrillResult) -> None:
        """Append a graded drill."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(result.model_dump(mode="json"), ensure_ascii=False) + "\n")
