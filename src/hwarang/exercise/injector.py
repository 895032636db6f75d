"""Running a planned exercise on a clock: each inject at its time, flagged EXERCISE end to end.

Event injects become :class:`~hwarang.domain.EventMessage` s with ``exercise=True`` handed to an
:data:`EventSink` (the bus in a live system, :class:`BusEventSink`; a hub directly in a
simulation). Figure injects are handed to a :data:`FigureSink` that draws a synthetic figure into an
edge camera's frames (:class:`LocalOverlaySink`: an overlay source playing in this process), so the
real analytics must find it. The clock runs in real time or faster (:class:`ScaledClock`);
:meth:`Injector.stop` ends a run cleanly from any thread.
"""

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hwarang.bus import Bus, event_subject
from hwarang.domain import BoundingBox, Event, EventMessage, stable_event_id
from hwarang.edge.sources.overlay import OverlayFigure, live_overlay
from hwarang.exercise.plan import ExercisePlan, PlannedInject
from hwarang.exercise.scenario import THREAT_OBJECT_CLASS, EventInject, FigureInject

logger = logging.getLogger(__name__)

EventSink = Callable[[Sequence[EventMessage]], Awaitable[None]]
"""Delivers injected events (to the bus, or straight to a hub)."""
FigureSink = Callable[[PlannedInject, OverlayFigure], Awaitable[None]]
"""Draws an injected figure at the inject's camera."""

_BOX = BoundingBox(x1=300.0, y1=200.0, x2=340.0, y2=310.0)
"""Where a bus-injected event says its object is in the (virtual) frame."""


class InjectorError(Exception):
    """An inject cannot be delivered (no sink for its kind, no overlay source at its camera)."""


class ExerciseClock(Protocol):
    """Exercise time: ``now()`` and waiting for a moment of it (stoppable)."""

    def now(self) -> datetime:
        """The current exercise time."""
        ...

    async def sleep_until(self, when: datetime, stop: asyncio.Event) -> bool:
        """Wait until ``when``; False when ``stop`` was set first."""
        ...


class ScaledClock:
    """Exercise time that starts at ``start`` and runs ``speed`` times faster than real time."""

    def __init__(
        self, start: datetime, speed: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        if start.tzinfo is None:
            raise ValueError("the exercise start must have a time zone")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        """The current exercise time."""
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.speed)

    async def sleep_until(self, when: datetime, stop: asyncio.Event) -> bool:
        """Wait (in real time: the exercise gap divided by ``speed``) until ``when`` or ``stop``."""
        while not stop.is_set():
            delay = (when - self.now()).total_seconds() / self.speed
            if delay <= 0:
                return True
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                continue
        return False


class InjectRecord(BaseModel):
    """What the injector did for one inject."""

    model_config = ConfigDict(frozen=True)

    inject_id: str
    kind: str
    scheduled_at: AwareDatetime
    injected_at: AwareDatetime = Field(description="Exercise-clock time it was delivered.")
    event_ids: tuple[uuid.UUID, ...] = ()
    camera_id: str


def rule_name(inject: PlannedInject) -> str:
    """The rule name bus-injected events carry: ``exercise-<inject id>``."""
    return f"exercise-{inject.id}"


def inject_events(inject: PlannedInject) -> list[EventMessage]:
    """The exercise events of an event inject (deterministic: the same plan gives the same ids)."""
    action = inject.action
    if not isinstance(action, EventInject):
        raise InjectorError(f"inject {inject.id} is a {action.type} inject, not an event inject")
    if inject.sido_code is None or inject.sigungu_code is None:
        raise InjectorError(f"inject {inject.id}: an event inject needs a local government")
    occurred = inject.at + timedelta(seconds=action.detect_delay_s)
    object_class = action.object_class or THREAT_OBJECT_CLASS[inject.threat]
    messages = []
    for track in range(1, action.count + 1):
        name = rule_name(inject)
        event = Event(
            id=stable_event_id(inject.camera_id, name, track, occurred),
            camera_id=inject.camera_id,
            center_id=inject.center_id,
            sido_code=inject.sido_code,
            sigungu_code=inject.sigungu_code,
            occurred_at=occurred,
            object_class=object_class,
            confidence=action.confidence,
            box=_BOX,
            track_id=track,
            rule=action.rule,
            rule_name=name,
            geo=inject.position,
            frame_index=0,
            exercise=True,
        )
        messages.append(EventMessage(event=event))
    return messages


def inject_figure(inject: PlannedInject, stream_start: datetime) -> OverlayFigure:
    """The overlay figure of a figure inject, for a camera whose stream time 0 is ``stream_start``."""
    action = inject.action
    if not isinstance(action, FigureInject):
        raise InjectorError(f"inject {inject.id} is a {action.type} inject, not a figure inject")
    start_s = (inject.at - stream_start).total_seconds()
    if start_s < 0:
        raise InjectorError(f"inject {inject.id} at {inject.at.isoformat()} is before the stream's start")
    return OverlayFigure(
        object_class=action.object_class, start_s=start_s, path=action.path, size=action.size, label=inject.id
    )


@dataclass(frozen=True, slots=True)
class InjectSinks:
    """Where injects are delivered: events (the bus, or a hub) and figures (overlay sources)."""

    events: EventSink | None = None
    figures: FigureSink | None = None


class InjectDelivery(Protocol):
    """Delivers one kind of inject to the sinks; an inject action's config builds it."""

    async def deliver(self, inject: PlannedInject, sinks: InjectSinks) -> tuple[uuid.UUID, ...]:
        """Deliver ``inject``; the ids of the events it published (none for a figure)."""
        ...


class EventDelivery:
    """An event inject: its exercise events handed to the event sink."""

    async def deliver(self, inject: PlannedInject, sinks: InjectSinks) -> tuple[uuid.UUID, ...]:
        """Publish the inject's events; ``InjectorError`` without an event sink."""
        if sinks.events is None:
            raise InjectorError(f"inject {inject.id}: no event sink (bus) to deliver events to")
        messages = inject_events(inject)
        await sinks.events(messages)
        return tuple(m.event.id for m in messages)


class FigureDelivery:
    """A figure inject: a synthetic figure drawn at the inject's camera by the figure sink."""

    async def deliver(self, inject: PlannedInject, sinks: InjectSinks) -> tuple[uuid.UUID, ...]:
        """Draw the figure; ``InjectorError`` without a figure sink."""
        if sinks.figures is None:
            raise InjectorError(f"inject {inject.id}: no figure sink to draw at {inject.camera_id}")
        await sinks.figures(inject, inject_figure(inject, inject.at))
        return ()


class BusEventSink:
    """Publishes injected events like an edge does: subject per region and center, msg id = event id."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def __call__(self, messages: Sequence[EventMessage]) -> None:
        for message in messages:
            event = message.event
            subject = event_subject(event.sido_code, event.sigungu_code, event.center_id)
            await self._bus.publish(subject, message.model_dump_json().encode("utf-8"), msg_id=str(event.id))


class LocalOverlaySink:
    """Adds figures to overlay sources playing in this process, starting at their current frame."""

    async def __call__(self, inject: PlannedInject, figure: OverlayFigure) -> None:
        source = live_overlay(inject.camera_id)
        if source is None:
            raise InjectorError(
                f"inject {inject.id}: no overlay source is playing for camera {inject.camera_id} "
                "(give the camera an 'overlay' source)"
            )
        source.add_figure(figure.model_copy(update={"start_s": source.last_pts_s}))


class Injector:
    """Delivers a plan's injects at their times on ``clock``; :meth:`stop` ends the run early."""

    def __init__(
        self,
        plan: ExercisePlan,
        clock: ExerciseClock,
        *,
        events: EventSink | None = None,
        figures: FigureSink | None = None,
    ) -> None:
        self.plan = plan
        self._clock = clock
        self._sinks = InjectSinks(events=events, figures=figures)
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.records: list[InjectRecord] = []

    def stop(self) -> None:
        """End the run after the inject being delivered (thread-safe)."""
        with self._lock:
            loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._stop.set)
        else:
            self._stop.set()

    async def run(self) -> list[InjectRecord]:
        """Deliver every inject at its time; returns what was delivered (all, unless stopped)."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
        try:
            for inject in self.plan.injects:
                if not await self._clock.sleep_until(inject.at, self._stop):
                    logger.info("exercise %s stopped before inject %s", self.plan.name, inject.id)
                    break
                self.records.append(await self._deliver(inject))
        finally:
            with self._lock:
                self._loop = None
        return list(self.records)

    async def _deliver(self, inject: PlannedInject) -> InjectRecord:
        event_ids = await inject.action.build().deliver(inject, self._sinks)
        record = InjectRecord(
            inject_id=inject.id,
            kind=inject.kind,
            scheduled_at=inject.at,
            injected_at=self._clock.now(),
            event_ids=event_ids,
            camera_id=inject.camera_id,
        )
        logger.info("exercise %s: inject %s (%s) delivered", self.plan.name, inject.id, inject.kind)
        return record
