"""A national exercise simulated on one machine: every zone and local government, simulated people.

One inject per local government (229 of them, in all 11 zones) is delivered as exercise events into
a real hub (SQLite, through :class:`~hwarang.hub.service.HubService`); simulated control-center
operators acknowledge, task the agencies the threat requires, and resolve; simulated agency
liaisons acknowledge and finish their tasks; overdue tasks are escalated by the real workflow.
Each delay is drawn from a log-normal distribution around a configurable median (times a per-zone
factor), and people err at configurable rates. Measurement then reads the hub's tables exactly as
for a real exercise, so the whole evaluation chain is exercised at full scale.

The workflow's rows carry simulated times (a settable clock); the ingest rows ('created') carry
the wall-clock time of the run, which measurement does not use.
"""

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from argon2 import PasswordHasher
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hwarang.domain import (
    Agency,
    AgencyKind,
    BoundingBox,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    stable_event_id,
)
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.injector import inject_events
from hwarang.exercise.measurement import Measurement, measure
from hwarang.exercise.operators import SimulatedPeople
from hwarang.exercise.plan import EXERCISE_CENTER, ExercisePlan, PlannedInject
from hwarang.exercise.scenario import AgencyRequirement, EventInject, Expected, ThreatType
from hwarang.exercise.scoring import Evaluation, evaluate
from hwarang.geo.regions import RegionCatalog, default_catalog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

logger = logging.getLogger(__name__)

KST = timezone(timedelta(hours=9), "KST")
DEFAULT_START = datetime(2026, 8, 25, 9, 0, tzinfo=KST)
COASTAL_SIDO = frozenset({"26", "28", "31", "41", "44", "46", "47", "48", "50", "51", "52"})
"""Sido with a coastline (coastal infiltration is only injected there)."""
SIDO_SHORT = {
    "11": "서울", "26": "부산", "27": "대구", "28": "인천", "29": "광주", "30": "대전", "31": "울산",
    "36": "세종", "41": "경기", "43": "충북", "44": "충남", "46": "전남",
    "47": "경북", "48": "경남", "50": "제주", "51": "강원", "52": "전북",
}  # fmt: skip
"""Short sido names for agency names."""
_INGEST_BATCH = 500


class Delay(BaseModel):
    """A log-normal delay: ``median_s`` times ``exp(spread * N(0, 1))``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    median_s: float = Field(gt=0.0, description="Median seconds.")
    spread: float = Field(default=0.6, ge=0.0, le=3.0, description="Log-normal sigma (0: always the median).")

    def sample(self, rng: np.random.Generator, factor: float = 1.0) -> float:
        """One delay in seconds."""
        return self.median_s * factor * math.exp(self.spread * float(rng.standard_normal()))


def _delay(median_s: float, spread: float, description: str) -> Any:
    return Field(default=Delay(median_s=median_s, spread=spread), description=description)


def _rate(default: float, description: str, most: float = 1.0) -> Any:
    return Field(default=default, ge=0.0, le=most, description=description)


class OperatorProfile(BaseModel):
    """How simulated people respond: delays and error rates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detect: Delay = _delay(15.0, 0.5, "Edge detection latency.")
    acknowledge: Delay = _delay(60.0, 0.7, "Operator, after detection.")
    task: Delay = _delay(90.0, 0.6, "Operator, per agency tasked (one after another).")
    agency_acknowledge: Delay = _delay(120.0, 0.7, "Agency liaison, after being tasked.")
    agency_done: Delay = _delay(600.0, 0.5, "Agency, after acknowledging.")
    resolve: Delay = _delay(600.0, 0.4, "Operator, after the last task is done.")
    false_alarm_close: Delay = _delay(240.0, 0.6, "Operator closing a false alarm.")
    edge_miss_rate: float = _rate(0.02, "Injects the edge never detects.")
    ignore_rate: float = _rate(0.01, "Incidents no operator acknowledges.")
    dismiss_rate: float = _rate(0.02, "Injects operators close as false alarms.")
    skip_agency_rate: float = _rate(0.04, "Required agencies the operator forgets.")
    false_alarm_rate: float = _rate(0.08, "Spurious exercise detections per local government.", most=5.0)


class SimulationConfig(BaseModel):
    """A national simulation: when, how many injects, and how people respond."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="화랑훈련 전국 모의 (national simulation)", description="Exercise name.")
    seed: int = Field(default=2026, ge=0, description="Seed of every random draw.")
    start: AwareDatetime = Field(default=DEFAULT_START, description="Exercise start.")
    duration_s: float = Field(default=4 * 3600.0, gt=3600.0, description="Exercise length (seconds).")
    injects_per_local_government: int = Field(
        default=1, ge=1, le=10, description="Injects per local government."
    )
    profile: OperatorProfile = Field(default_factory=OperatorProfile, description="Default behaviour.")
    zone_factors: dict[int, float] = Field(
        default_factory=dict, description="Delay multiplier per zone; unlisted zones draw one (zone_spread)."
    )
    zone_spread: float = Field(
        default=0.35, ge=0.0, le=2.0, description="Log-normal sigma of the drawn per-zone multipliers."
    )
    escalation_every_s: float = Field(
        default=300.0, gt=0.0, description="How often overdue tasks are escalated."
    )


def _req(kind: AgencyKind, share: float | None = None, task: float | None = None) -> AgencyRequirement:
    return AgencyRequirement(kind=kind, share_within_s=share, task_within_s=task)


THREAT_RESPONSES: dict[ThreatType, Expected] = {
    ThreatType.COASTAL_INFILTRATION: Expected(
        detect_within_s=60, acknowledge_within_s=180, resolve_within_s=7200,
        agencies=[_req(AgencyKind.MILITARY, 300, 600), _req(AgencyKind.POLICE, 300, 600),
                  _req(AgencyKind.COAST_GUARD, 300, 900)],
    ),
    ThreatType.ARMED_INTRUDER: Expected(
        detect_within_s=60, acknowledge_within_s=120, resolve_within_s=7200,
        agencies=[_req(AgencyKind.MILITARY, 300, 600), _req(AgencyKind.POLICE, 300, 600),
                  _req(AgencyKind.INFRASTRUCTURE, 600)],
    ),
    ThreatType.VEHICLE_BORNE: Expected(
        detect_within_s=60, acknowledge_within_s=120, resolve_within_s=5400,
        agencies=[_req(AgencyKind.POLICE, 240, 480), _req(AgencyKind.FIRE, 600, 900)],
    ),
    ThreatType.DRONE: Expected(
        detect_within_s=90, acknowledge_within_s=180, resolve_within_s=5400,
        agencies=[_req(AgencyKind.MILITARY, 300, 600), _req(AgencyKind.POLICE, 600)],
    ),
    ThreatType.CROWDED_PLACE_TERROR: Expected(
        detect_within_s=60, acknowledge_within_s=120, resolve_within_s=7200,
        agencies=[_req(AgencyKind.POLICE, 240, 480), _req(AgencyKind.FIRE, 300, 600),
                  _req(AgencyKind.INTELLIGENCE, 900)],
    ),
    ThreatType.DISASTER: Expected(
        detect_within_s=120, acknowledge_within_s=300, resolve_within_s=10800,
        agencies=[_req(AgencyKind.FIRE, 300, 600), _req(AgencyKind.INTERIOR_MINISTRY, 900)],
    ),
}  # fmt: skip
"""The response each threat type expects in the simulation (deadlines in seconds after the inject)."""


def _agency(code: str, name: str, kind: AgencyKind, jurisdiction: str | None = None) -> Agency:
    return Agency(code=code, name=name, kind=kind, jurisdiction_code=jurisdiction)


def simulation_agencies(catalog: RegionCatalog) -> list[Agency]:
    """The agencies of the simulated nation: per sido police, fire, infrastructure (and coast guard on
    the coast), an army division per zone, the intelligence service, and every local government."""
    agencies = [
        _agency("idhq", "통합방위지원본부", AgencyKind.INTEGRATED_DEFENSE_HQ),
        _agency("mois", "행정안전부", AgencyKind.INTERIOR_MINISTRY),
        _agency("nis", "국가정보원", AgencyKind.INTELLIGENCE),
    ]
    for sido in catalog.sidos():
        short, code = SIDO_SHORT.get(sido.code, sido.name[:2]), sido.code
        agencies += [
            _agency(f"police-{code}", f"{short} 경찰청", AgencyKind.POLICE, code),
            _agency(f"fire-{code}", f"{short} 소방본부", AgencyKind.FIRE, code),
            _agency(f"kni-{code}", f"{short} 국가중요시설", AgencyKind.INFRASTRUCTURE, code),
        ]
        if code in COASTAL_SIDO:
            agencies.append(_agency(f"cg-{code}", f"{short} 해양경찰", AgencyKind.COAST_GUARD, code))
    for zone in catalog.zones().zones:
        agencies.append(_agency(f"army-zone{zone.id:02d}", f"{zone.name} 지역 사단", AgencyKind.MILITARY))
    for code in local_governments(catalog):
        agencies.append(_agency(f"lg-{code}", catalog.get(code).name, AgencyKind.LOCAL_GOVERNMENT, code))
    return agencies


def local_governments(catalog: RegionCatalog) -> list[str]:
    """Codes of every autonomous local government (a city for its 일반구; 세종, 제주 as one each)."""
    return sorted({catalog.local_government(unit.code).code for unit in catalog.sigungus()})


def agency_for(kind: AgencyKind, inject: PlannedInject) -> str:
    """The agency code a simulated operator tasks for a required kind at this inject."""
    sido = inject.sido_code or "11"
    return {
        AgencyKind.POLICE: f"police-{sido}",
        AgencyKind.FIRE: f"fire-{sido}",
        AgencyKind.INFRASTRUCTURE: f"kni-{sido}",
        AgencyKind.COAST_GUARD: f"cg-{sido}",
        AgencyKind.MILITARY: f"army-zone{inject.zone_id:02d}",
        AgencyKind.INTELLIGENCE: "nis",
        AgencyKind.INTERIOR_MINISTRY: "mois",
        AgencyKind.INTEGRATED_DEFENSE_HQ: "idhq",
        AgencyKind.LOCAL_GOVERNMENT: f"lg-{inject.local_government_code}",
    }[kind]


THREAT_TITLES: dict[ThreatType, str] = {
    ThreatType.COASTAL_INFILTRATION: "해안 침투",
    ThreatType.ARMED_INTRUDER: "국가중요시설 무장 침입",
    ThreatType.VEHICLE_BORNE: "차량 테러",
    ThreatType.DRONE: "드론 위협",
    ThreatType.CROWDED_PLACE_TERROR: "다중이용시설 테러",
    ThreatType.DISASTER: "재난",
}


def _units(catalog: RegionCatalog) -> dict[str, str]:
    """Local government -> its first unit (a 5-digit code events can carry)."""
    units: dict[str, str] = {}
    for unit in catalog.sigungus():
        units.setdefault(catalog.local_government(unit.code).code, unit.code)
    return units


def _zone_factors(
    config: SimulationConfig, catalog: RegionCatalog, rng: np.random.Generator
) -> dict[int, float]:
    factors = {}
    for zone in catalog.zones().zones:
        drawn = math.exp(config.zone_spread * float(rng.standard_normal()))
        factors[zone.id] = config.zone_factors.get(zone.id, drawn)
    return factors


def national_plan(config: SimulationConfig, catalog: RegionCatalog, rng: np.random.Generator) -> ExercisePlan:
    """One plan covering every local government of every zone with event injects."""
    zone_table = catalog.zones()
    threats = list(ThreatType)
    inland = [t for t in threats if t is not ThreatType.COASTAL_INFILTRATION]
    latest = config.duration_s - 1800.0
    injects = []
    for code, unit in sorted(_units(catalog).items()):
        sido = unit[:2]
        zone = zone_table.zone_for_sido(sido)
        if zone is None:
            continue
        point = catalog.boundary(unit).representative_point()
        name = catalog.get(code).name
        for n in range(1, config.injects_per_local_government + 1):
            choices = threats if sido in COASTAL_SIDO else inland
            threat = choices[int(rng.integers(0, len(choices)))]
            offset = float(rng.uniform(60.0, latest))
            inject_id = f"lg{code}-{n}"
            injects.append(
                PlannedInject(
                    id=inject_id,
                    title=f"{THREAT_TITLES[threat]} — {name}",
                    threat=threat,
                    at=config.start + timedelta(seconds=offset),
                    offset_s=offset,
                    action=EventInject(type="event", detect_delay_s=config.profile.detect.sample(rng)),
                    expected=THREAT_RESPONSES[threat],
                    zone_id=zone.id,
                    sido_code=sido,
                    sigungu_code=unit,
                    local_government_code=code,
                    camera_id=f"ex-{inject_id}",
                    center_id=EXERCISE_CENTER,
                    position=GeoPoint(lat=point.y, lon=point.x),
                    place_name=name,
                )
            )
    return ExercisePlan(
        name=config.name,
        source="simulation",
        start=config.start,
        end=config.start + timedelta(seconds=config.duration_s),
        zones=tuple(zone.id for zone in zone_table.zones),
        injects=tuple(sorted(injects, key=lambda i: (i.at, i.id))),
    )


def false_alarm_event(
    unit: str, local_government: str, n: int, at: datetime, position: GeoPoint
) -> EventMessage:
    """A spurious exercise detection (an animal, a shadow) at a local government's camera."""
    camera = f"fa-{local_government}-{n}"
    event = Event(
        id=stable_event_id(camera, "exercise-noise", n, at),
        camera_id=camera,
        center_id=EXERCISE_CENTER,
        sido_code=unit[:2],
        sigungu_code=unit,
        occurred_at=at,
        object_class=ObjectClass.UNKNOWN,
        confidence=0.4,
        box=BoundingBox(x1=10.0, y1=10.0, x2=40.0, y2=60.0),
        track_id=n,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="exercise-noise",
        geo=position,
        frame_index=0,
        exercise=True,
    )
    return EventMessage(event=event)


@dataclass
class SimulationResult:
    """What a simulation produced and how long each phase took."""

    plan: ExercisePlan
    measurement: Measurement
    evaluation: Evaluation
    database_url: str
    seconds: dict[str, float] = field(default_factory=dict)
    incidents: int = 0
    actions: int = 0
    failed_actions: int = 0
    escalations: int = 0


def open_hub(path: Path, *, clock: Callable[[], datetime] | None = None) -> HubService:
    """A migrated SQLite hub in ``path`` (created), cheap password hashing; ``clock`` stamps workflow."""
    path.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{path / 'hub.sqlite3'}")
    database.migrate()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return HubService(database, EvidenceStore(path / "evidence"), password_hasher=hasher, clock=clock)


def _ingest(service: HubService, messages: list[EventMessage]) -> dict[uuid.UUID, uuid.UUID]:
    by_event: dict[uuid.UUID, uuid.UUID] = {}
    for i in range(0, len(messages), _INGEST_BATCH):
        for result in service.ingest.batch(messages[i : i + _INGEST_BATCH]):
            if result.incident is not None:
                by_event[result.event_id] = result.incident.id
    return by_event


def simulate(
    config: SimulationConfig,
    workdir: Path,
    *,
    catalog: RegionCatalog | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationResult:
    """Run the national simulation into a hub under ``workdir`` and evaluate it."""
    catalog = catalog or default_catalog()
    say = progress or (lambda _message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    clock = ManualClock(config.start)
    service = open_hub(workdir, clock=clock.now)
    try:
        service.identity.agencies.upsert(simulation_agencies(catalog), actor="system:simulation")
        plan = national_plan(config, catalog, rng)
        factors = _zone_factors(config, catalog, rng)
        timings["setup"] = time.perf_counter() - started
        say(f"{len(plan.injects)} injects in {len(plan.zones)} zones")

        mark = time.perf_counter()
        profile = config.profile
        detected: list[tuple[PlannedInject, EventMessage]] = []
        for inject in plan.injects:
            if rng.random() >= profile.edge_miss_rate:
                detected.append((inject, inject_events(inject)[0]))
        noise: list[tuple[str, EventMessage]] = []
        units = _units(catalog)
        for code, unit in sorted(units.items()):
            count = int(rng.poisson(profile.false_alarm_rate))
            for n in range(1, count + 1):
                at = config.start + timedelta(seconds=float(rng.uniform(0.0, config.duration_s - 600.0)))
                point = catalog.boundary(unit).representative_point()
                noise.append((code, false_alarm_event(unit, code, n, at, GeoPoint(lat=point.y, lon=point.x))))
        by_event = _ingest(service, [m for _i, m in detected] + [m for _c, m in noise])
        timings["inject"] = time.perf_counter() - mark
        say(f"{len(by_event)} exercise incidents opened ({len(noise)} false alarms)")

        mark = time.perf_counter()
        people = SimulatedPeople(service, clock, profile, rng, agency_for)
        for inject, message in detected:
            incident_id = by_event[message.event.id]
            people.respond(inject, incident_id, message.event.occurred_at, factors[inject.zone_id])
        zone_table = catalog.zones()
        for code, message in noise:
            zone = zone_table.zone_for_sido(message.event.sido_code)
            factor = 1.0 if zone is None else factors[zone.id]
            people.close_false_alarm(
                by_event[message.event.id], f"op-{code}", message.event.occurred_at, factor
            )
        people.escalate_every(plan.start, plan.end + timedelta(hours=3), config.escalation_every_s)
        counts = people.run()
        timings["respond"] = time.perf_counter() - mark
        say(f"{counts.actions} simulated actions ({counts.failed} refused, {counts.escalated} escalations)")

        mark = time.perf_counter()
        measured_at = plan.end + timedelta(hours=3)
        measurement = measure(service.database, plan, measured_at=measured_at)
        evaluation = evaluate(measurement, catalog, generated_at=datetime.now(UTC))
        timings["evaluate"] = time.perf_counter() - mark
        timings["total"] = time.perf_counter() - started
        return SimulationResult(
            plan=plan,
            measurement=measurement,
            evaluation=evaluation,
            database_url=service.database.masked_url,
            seconds=timings,
            incidents=len(by_event),
            actions=counts.actions,
            failed_actions=counts.failed,
            escalations=counts.escalated,
        )
    finally:
        service.database.close()
