"""Scores per local government, sido, zone and agency from a measurement and the checklist.

Each measured checklist item gives one observation (a score between 0 and 1) per inject it
applies to; each manual score gives one observation for its organisation. An organisation's score
is the weighted mean of its observations, times 100. Injects count for their local government,
sido and zone; an agency's observations are its own acknowledgements of the tasks it was given.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from hwarang.exercise.checklist import (
    DEFAULT_CHECKLIST,
    LEVELS,
    ChecklistItem,
    Level,
    ManualScore,
    Metric,
    timeliness,
)
from hwarang.exercise.findings import Finding, findings_for
from hwarang.exercise.measurement import InjectResult, Measurement
from hwarang.geo.errors import GeoError
from hwarang.geo.regions import RegionCatalog

SCHEMA_VERSION = 1
WHOLE_OPERATION = "acknowledge→resolve"
"""The link that spans the whole operation: long by nature, so not ranked among the slowest links."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One scored observation of a checklist item, and the organisations it counts for."""

    item: str
    score: float
    weight: float
    subjects: tuple[tuple[Level, str], ...]


class ItemScore(BaseModel):
    """One item's mean score (0..100) for an organisation, over ``count`` observations."""

    score: float
    count: int


class SubjectScore(BaseModel):
    """An organisation's score and the figures behind it."""

    level: Level
    code: str
    name: str
    score: float = Field(description="Weighted mean of its observations, 0..100.")
    items: dict[str, ItemScore]
    injects: int = Field(description="Injects in its area (agencies: tasks given to it).")
    missed: int = 0
    late: int = Field(default=0, description="Injects with at least one late or missing step.")
    median_acknowledge_s: float | None = None
    median_task_s: float | None = None


class LinkStats(BaseModel):
    """How long one link of the response chain took across the exercise."""

    link: str
    count: int
    median_s: float
    p90_s: float
    max_s: float


class SlowLink(BaseModel):
    """One slow link of one inject."""

    inject_id: str
    title: str = Field(default="", description="The inject's title as the scenario gives it.")
    local_government_code: str | None
    zone_id: int
    link: str
    seconds: float


class Delta(BaseModel):
    """An organisation's score now and in an earlier exercise."""

    level: Level
    code: str
    name: str
    before: float
    after: float

    @property
    def change(self) -> float:
        """``after - before`` in points."""
        return self.after - self.before


class Evaluation(BaseModel):
    """The evaluation of one exercise: measurement, scores, chain statistics, findings."""

    schema_version: int = SCHEMA_VERSION
    exercise: str
    generated_at: AwareDatetime
    checklist: list[ChecklistItem]
    manual: list[ManualScore]
    measurement: Measurement
    overall: float
    scores: dict[str, list[SubjectScore]] = Field(description="Level -> scores, lowest first.")
    links: list[LinkStats]
    slowest: list[SlowLink]
    findings: list[Finding]
    comparison: list[Delta] = Field(default_factory=list)
    previous_exercise: str | None = None

    def score(self, level: Level, code: str) -> SubjectScore | None:
        """The score of one organisation, if it was evaluated."""
        return next((s for s in self.scores.get(level, []) if s.code == code), None)


class _Names:
    def __init__(self, catalog: RegionCatalog, measurement: Measurement) -> None:
        self._catalog = catalog
        self._zones = {zone.id: zone for zone in catalog.zones().zones}
        self._agencies = measurement.agencies

    def __call__(self, level: Level, code: str, lang: str = "ko") -> str:
        if level == "zone":
            zone = self._zones.get(int(code))
            return code if zone is None else f"{zone.id}. {zone.name if lang == 'ko' else zone.name_en}"
        if level == "agency":
            agency = self._agencies.get(code)
            return code if agency is None else agency.name
        try:
            region = self._catalog.get(code)
        except GeoError:
            return code
        if level == "local_government" and region.parent_code is not None:
            return f"{self._catalog.get(region.parent_code).name} {region.name}"
        return region.name


def _area(result: InjectResult) -> tuple[tuple[Level, str], ...]:
    subjects: list[tuple[Level, str]] = [("zone", str(result.zone_id))]
    if result.sido_code is not None:
        subjects.append(("sido", result.sido_code))
    if result.local_government_code is not None:
        subjects.append(("local_government", result.local_government_code))
    return tuple(subjects)


def _inject_observations(result: InjectResult, item: ChecklistItem) -> Iterable[Observation]:
    area, expected, metric = _area(result), result.expected, item.metric

    def seen(score: float, subjects: tuple[tuple[Level, str], ...] = area) -> Observation:
        return Observation(item.id, score, item.weight, subjects)

    if metric is Metric.DETECT:
        yield seen(timeliness(result.detected_s, expected.detect_within_s))
    elif metric is Metric.ACKNOWLEDGE:
        yield seen(timeliness(result.acknowledged_s, expected.acknowledge_within_s))
    elif metric is Metric.SHARE:
        for agency in result.agencies:
            if agency.share_due_s is not None:
                yield seen(timeliness(agency.shared_s, agency.share_due_s))
    elif metric is Metric.TASK:
        for agency in result.agencies:
            if agency.task_due_s is not None:
                yield seen(timeliness(agency.tasked_s, agency.task_due_s))
    elif metric is Metric.RESOLVE and expected.resolve_within_s is not None:
        yield seen(timeliness(result.resolved_s, expected.resolve_within_s))
    elif metric is Metric.JUDGEMENT and not result.missed:
        yield seen(0.0 if result.dismissed else 1.0)
    elif metric is Metric.AGENCY_ACKNOWLEDGE and item.target_s is not None:
        for agency in result.agencies:
            if agency.agency_code is not None and agency.tasked_s is not None:
                acked = agency.task_acknowledged_s
                took = None if acked is None else acked - agency.tasked_s
                yield seen(timeliness(took, item.target_s), (("agency", agency.agency_code),))


def observations(
    measurement: Measurement,
    checklist: Sequence[ChecklistItem],
    manual: Sequence[ManualScore],
    local_government_of: dict[str, str],
) -> list[Observation]:
    """Every observation of the exercise (``local_government_of`` maps sigungu to local government)."""
    found: list[Observation] = []
    weights = {item.id: item.weight for item in checklist}
    for item in checklist:
        if item.kind != "measured":
            continue
        for result in measurement.injects:
            found.extend(_inject_observations(result, item))
        if item.metric is Metric.FALSE_ALARM_CLOSE and item.target_s is not None:
            for alarm in measurement.false_alarms:
                subjects: list[tuple[Level, str]] = [("sido", alarm.sido_code)]
                if alarm.zone_id is not None:
                    subjects.append(("zone", str(alarm.zone_id)))
                local = local_government_of.get(alarm.sigungu_code)
                if local is not None:
                    subjects.append(("local_government", local))
                score = timeliness(alarm.closed_s, item.target_s)
                found.append(Observation(item.id, score, item.weight, tuple(subjects)))
    for entry in manual:
        if entry.item in weights:
            subject: tuple[Level, str] = (entry.level, entry.code)
            found.append(Observation(entry.item, entry.score, weights[entry.item], (subject,)))
    return found


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _item_score(scores: Sequence[float]) -> ItemScore:
    return ItemScore(score=round(100.0 * statistics.fmean(scores), 1), count=len(scores))


def _subject_scores(
    found: Sequence[Observation], measurement: Measurement, names: _Names
) -> dict[str, list[SubjectScore]]:
    grouped: dict[tuple[Level, str], list[Observation]] = defaultdict(list)
    for observation in found:
        for subject in observation.subjects:
            grouped[subject].append(observation)
    injects: dict[tuple[Level, str], list[InjectResult]] = defaultdict(list)
    for result in measurement.injects:
        for subject in _area(result):
            injects[subject].append(result)
        for agency in {a.agency_code for a in result.agencies if a.agency_code is not None}:
            injects[("agency", agency)].append(result)
    scores: dict[str, list[SubjectScore]] = {level: [] for level in LEVELS}
    for (level, code), seen in grouped.items():
        total = sum(o.weight for o in seen)
        by_item: dict[str, list[float]] = defaultdict(list)
        for o in seen:
            by_item[o.item].append(o.score)
        mine = injects.get((level, code), [])
        tasks = [min((a.tasked_s for a in r.agencies if a.tasked_s is not None), default=None) for r in mine]
        scores[level].append(
            SubjectScore(
                level=level,
                code=code,
                name=names(level, code),
                score=round(100.0 * sum(o.weight * o.score for o in seen) / total, 1),
                items={k: _item_score(v) for k, v in by_item.items()},
                injects=len(mine),
                missed=sum(r.missed for r in mine),
                late=sum(bool(r.late) for r in mine),
                median_acknowledge_s=_median(r.acknowledged_s for r in mine),
                median_task_s=_median(tasks),
            )
        )
    for level_scores in scores.values():
        level_scores.sort(key=lambda s: (s.score, s.code))
    return scores


def chain_links(measurement: Measurement) -> tuple[list[LinkStats], list[SlowLink]]:
    """Statistics per link of the response chain, and the slowest individual links (top 15, not
    counting :data:`WHOLE_OPERATION`)."""
    per_link: dict[str, list[float]] = defaultdict(list)
    slow: list[SlowLink] = []
    for result in measurement.injects:
        for link, seconds in result.links().items():
            per_link[link].append(seconds)
            if link == WHOLE_OPERATION:
                continue
            slow.append(
                SlowLink(
                    inject_id=result.inject_id,
                    title=result.title,
                    local_government_code=result.local_government_code,
                    zone_id=result.zone_id,
                    link=link,
                    seconds=seconds,
                )
            )
    stats = [
        LinkStats(
            link=link,
            count=len(values),
            median_s=statistics.median(values),
            p90_s=_percentile(values, 0.9),
            max_s=max(values),
        )
        for link, values in per_link.items()
    ]
    stats.sort(key=lambda s: s.median_s, reverse=True)
    slow.sort(key=lambda s: s.seconds, reverse=True)
    return stats, slow[:15]


def compare(current: Evaluation, previous: Evaluation) -> list[Delta]:
    """Score changes of every organisation evaluated in both exercises, biggest change first."""
    deltas = []
    for level in LEVELS:
        before = {s.code: s for s in previous.scores.get(level, [])}
        for score in current.scores.get(level, []):
            old = before.get(score.code)
            if old is not None:
                deltas.append(
                    Delta(level=level, code=score.code, name=score.name, before=old.score, after=score.score)
                )
    deltas.sort(key=lambda d: (-abs(d.change), d.level, d.code))
    return deltas


def evaluate(
    measurement: Measurement,
    catalog: RegionCatalog,
    *,
    generated_at: datetime,
    checklist: Sequence[ChecklistItem] = DEFAULT_CHECKLIST,
    manual: Sequence[ManualScore] = (),
    previous: Evaluation | None = None,
) -> Evaluation:
    """Score the exercise; with ``previous``, compare each organisation with that exercise."""
    codes = {r.sigungu_code for r in measurement.injects if r.sigungu_code} | {
        a.sigungu_code for a in measurement.false_alarms
    }
    local_government_of = {}
    for code in codes:
        try:
            local_government_of[code] = catalog.local_government(code).code
        except GeoError:
            continue
    found = observations(measurement, checklist, manual, local_government_of)
    names = _Names(catalog, measurement)
    scores = _subject_scores(found, measurement, names)
    total = sum(o.weight for o in found)
    overall = round(100.0 * sum(o.weight * o.score for o in found) / total, 1) if total else 0.0
    links, slowest = chain_links(measurement)
    evaluation = Evaluation(
        exercise=measurement.exercise,
        generated_at=generated_at,
        checklist=list(checklist),
        manual=list(manual),
        measurement=measurement,
        overall=overall,
        scores=scores,
        links=links,
        slowest=slowest,
        findings=[],
    )
    if previous is not None:
        evaluation.comparison = compare(evaluation, previous)
        evaluation.previous_exercise = previous.exercise
    evaluation.findings = findings_for(evaluation)
    return evaluation
