"""After-action replay: an exercise's steps in time order, played back at a chosen speed.

The timeline is built from the same tables as the measurement: each inject, the detection (the
incident's ``first_seen``) and every ``incident_history`` row of the incidents the exercise raised
(its injects' and its false alarms'). :func:`play` hands the entries to a callback, sleeping the
real gaps divided by ``speed`` (a map client, or the CLI, shows them).
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from hwarang.exercise.measurement import Measurement
from hwarang.exercise.plan import ExercisePlan
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentHistoryRow, IncidentRow

_CHUNK = 500


class ReplayEntry(BaseModel):
    """One step of the exercise, with where it happened."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    offset_s: float
    kind: str
    inject_id: str | None = None
    incident_id: uuid.UUID | None = None
    actor: str = ""
    from_state: str | None = None
    to_state: str | None = None
    zone_id: int | None = None
    sigungu_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


def exercise_timeline(database: Database, plan: ExercisePlan, measurement: Measurement) -> list[ReplayEntry]:
    """Every step of the exercise, oldest first (ingest rows are left out: detection stands for them)."""
    start = plan.start
    by_incident: dict[uuid.UUID, str | None] = {}
    entries: list[ReplayEntry] = []
    for inject in plan.injects:
        point = inject.position
        entries.append(
            ReplayEntry(
                at=inject.at,
                offset_s=(inject.at - start).total_seconds(),
                kind="inject",
                inject_id=inject.id,
                zone_id=inject.zone_id,
                sigungu_code=inject.sigungu_code,
                lat=None if point is None else point.lat,
                lon=None if point is None else point.lon,
                detail={"title": inject.title, "threat": inject.threat.value, "type": inject.kind},
            )
        )
    for result in measurement.injects:
        if result.incident_id is not None:
            by_incident[result.incident_id] = result.inject_id
    for alarm in measurement.false_alarms:
        by_incident[alarm.incident_id] = None
    ids = list(by_incident)
    with database.session() as session:
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            incidents = {
                row.id: row for row in session.scalars(select(IncidentRow).where(IncidentRow.id.in_(chunk)))
            }
            for row in incidents.values():
                entries.append(_entry(row, row.first_seen, "detected", by_incident[row.id], start))
            history = (
                select(IncidentHistoryRow)
                .where(
                    IncidentHistoryRow.incident_id.in_(chunk),
                    IncidentHistoryRow.kind.not_in(("created", "event.added")),
                )
                .order_by(IncidentHistoryRow.at, IncidentHistoryRow.id)
            )
            for step in session.scalars(history):
                incident = incidents[step.incident_id]
                entries.append(
                    _entry(incident, step.at, step.kind, by_incident[step.incident_id], start).model_copy(
                        update={
                            "actor": step.actor,
                            "from_state": step.from_state,
                            "to_state": step.to_state,
                            "detail": dict(step.detail or {}),
                        }
                    )
                )
    entries.sort(key=lambda e: (e.at, e.kind != "inject", e.kind != "detected"))
    return entries


def _entry(row: IncidentRow, at: datetime, kind: str, inject_id: str | None, start: datetime) -> ReplayEntry:
    return ReplayEntry(
        at=at,
        offset_s=(at - start).total_seconds(),
        kind=kind,
        inject_id=inject_id,
        incident_id=row.id,
        zone_id=row.zone_id,
        sigungu_code=row.sigungu_code,
        lat=row.lat,
        lon=row.lon,
        detail={"false_alarm": True} if inject_id is None and kind == "detected" else {},
    )


async def play(
    entries: Sequence[ReplayEntry],
    speed: float,
    emit: Callable[[ReplayEntry], Awaitable[None] | None],
    stop: asyncio.Event | None = None,
) -> int:
    """Hand each entry to ``emit`` after the exercise-time gap divided by ``speed``; returns how many."""
    if speed <= 0:
        raise ValueError(f"replay speed must be > 0, got {speed}")
    stop = stop or asyncio.Event()
    played = 0
    previous: datetime | None = None
    for entry in entries:
        if previous is not None:
            gap = (entry.at - previous).total_seconds() / speed
            if gap > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=gap)
        if stop.is_set():
            break
        result = emit(entry)
        if result is not None:
            await result
        previous = entry.at
        played += 1
    return played
