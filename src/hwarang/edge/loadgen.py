"""Load generator: realistic events from many simulated control centers, published to a bus.

Centers are real local governments from the region catalog (their sido and sigungu codes);
cameras stand at random points inside their boundaries. Each camera emits events with a
plausible class, rule, confidence, box and track; ``occurred_at`` and ``frame_index`` increase
per camera, and each camera's events are published one after another (never overtaking), so
per-camera order on the bus is the generation order. ``occurred_at`` is the wall-clock time the
event is handed to the bus, which lets a hub measure publish-to-commit latency.

Everything is bounded: by ``count`` and by ``duration_s``, and publishing gives up on an event
after ``publish_deadline_s`` of retries.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import shapely
from shapely.geometry import Point

from hwarang.bus import Bus, BusError, event_subject
from hwarang.domain import (
    BoundingBox,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    stable_event_id,
)
from hwarang.domain.event import Event
from hwarang.geo.regions import RegionCatalog

logger = logging.getLogger(__name__)

FRAME_W, FRAME_H, FPS = 1920, 1080, 10
_CLASSES: tuple[tuple[ObjectClass, float], ...] = (
    (ObjectClass.PERSON, 0.52),
    (ObjectClass.VEHICLE, 0.28),
    (ObjectClass.TWO_WHEELER, 0.08),
    (ObjectClass.ANIMAL, 0.06),
    (ObjectClass.BOAT, 0.03),
    (ObjectClass.UNKNOWN, 0.03),
)
_RULES: tuple[tuple[RuleKind, str, float], ...] = (
    (RuleKind.ZONE_INTRUSION, "perimeter", 0.40),
    (RuleKind.LINE_CROSSING, "fence-line", 0.35),
    (RuleKind.LOITERING, "gate-loiter", 0.15),
    (RuleKind.CROWDING, "plaza-crowd", 0.10),
)
_MAX_POINT_TRIES = 500
_T = TypeVar("_T")
_METRES_PER_DEG_LAT = 111_320.0


class SimulationError(Exception):
    """The simulation cannot be set up (e.g. more centers asked than there are local governments)."""


@dataclass(frozen=True, slots=True)
class SimCamera:
    """A simulated camera at a real place."""

    id: str
    center_id: str
    sido_code: str
    sigungu_code: str
    position: GeoPoint


@dataclass(slots=True)
class _CameraState:
    camera: SimCamera
    frame_index: int = 0
    next_track: int = 1
    last_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def local_governments(catalog: RegionCatalog) -> list[tuple[str, str]]:
    """``(sido_code, sigungu_code)`` of each autonomous local government, by code (one unit each)."""
    chosen: dict[str, tuple[str, str]] = {}
    for unit in catalog.sigungus():
        government = catalog.local_government(unit.code)
        if government.code not in chosen and unit.parent_code is not None:
            code = government.code if len(government.code) == 5 else unit.code
            chosen[government.code] = (unit.parent_code, code)
    return [chosen[k] for k in sorted(chosen)]


def _point_inside(catalog: RegionCatalog, code: str, rng: random.Random) -> GeoPoint:
    geom = catalog.boundary(code, tolerance_deg=0.001)
    shapely.prepare(geom)
    min_x, min_y, max_x, max_y = geom.bounds
    for _ in range(_MAX_POINT_TRIES):
        lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if geom.contains(Point(lon, lat)):
            return GeoPoint(lat=round(lat, 6), lon=round(lon, 6))
    point = geom.representative_point()
    return GeoPoint(lat=round(point.y, 6), lon=round(point.x, 6))


def build_cameras(
    catalog: RegionCatalog, *, centers: int, cameras_per_center: int, seed: int = 0
) -> list[SimCamera]:
    """``cameras_per_center`` cameras inside each of the first ``centers`` local governments.

    Centers are spread over the whole country (every k-th local government by code).
    """
    governments = local_governments(catalog)
    if not 1 <= centers <= len(governments):
        raise SimulationError(f"centers must be 1..{len(governments)} (local governments), got {centers}")
    if cameras_per_center < 1:
        raise SimulationError(f"cameras_per_center must be at least 1, got {cameras_per_center}")
    rng = random.Random(seed)
    step = (len(governments) - 1) / max(1, centers - 1)  # the first and the last are always in
    cameras: list[SimCamera] = []
    for i in range(centers):
        sido, sigungu = governments[round(i * step)]
        center_id = f"sim-{sigungu}"
        for j in range(cameras_per_center):
            position = _point_inside(catalog, sigungu, rng)
            cameras.append(SimCamera(f"sim-{sigungu}-c{j:03d}", center_id, sido, sigungu, position))
    return cameras


def _weighted(rng: random.Random, items: Sequence[tuple[_T, float]]) -> _T:
    return rng.choices([item for item, _ in items], weights=[w for _, w in items])[0]


class EventFactory:
    """Builds plausible events for cameras, per camera in increasing time and frame order."""

    def __init__(self, cameras: Sequence[SimCamera], *, seed: int = 0, exercise: bool = True) -> None:
        if not cameras:
            raise SimulationError("no cameras to simulate")
        self._rng = random.Random(seed)
        self._exercise = exercise
        self.states = [_CameraState(camera) for camera in cameras]

    def make(self, state: _CameraState, now: datetime) -> EventMessage:
        """The camera's next event at ``now`` (nudged forward to stay after its previous event)."""
        rng = self._rng
        if state.last_at is not None and now <= state.last_at:
            now = state.last_at + timedelta(microseconds=1)
        state.last_at = now
        state.frame_index += rng.randint(1, 3 * FPS)
        track_id = state.next_track
        state.next_track += 1
        object_class = _weighted(rng, _CLASSES)
        rule, rule_name = _weighted(rng, [((k, n), w) for k, n, w in _RULES])
        dwell = round(rng.uniform(30.0, 180.0), 1) if rule is RuleKind.LOITERING else None
        first_seen = now - timedelta(seconds=dwell or rng.uniform(0.5, 8.0))
        w = rng.uniform(40, 220) if object_class is not ObjectClass.PERSON else rng.uniform(25, 80)
        h = w * (2.4 if object_class is ObjectClass.PERSON else rng.uniform(0.5, 1.2))
        x1, y1 = rng.uniform(0, FRAME_W - w), rng.uniform(0, FRAME_H - h)
        camera = state.camera
        metres = rng.uniform(5.0, 80.0)
        lat = camera.position.lat + rng.uniform(-metres, metres) / _METRES_PER_DEG_LAT
        lon = camera.position.lon + rng.uniform(-metres, metres) / _METRES_PER_DEG_LAT
        event = Event(
            id=stable_event_id(camera.id, rule_name, track_id, first_seen),
            camera_id=camera.id,
            center_id=camera.center_id,
            sido_code=camera.sido_code,
            sigungu_code=camera.sigungu_code,
            occurred_at=now,
            object_class=object_class,
            confidence=round(min(0.99, max(0.3, rng.betavariate(8, 2))), 3),
            box=BoundingBox(x1=round(x1, 1), y1=round(y1, 1), x2=round(x1 + w, 1), y2=round(y1 + h, 1)),
            track_id=track_id,
            rule=rule,
            rule_name=rule_name,
            direction=rng.choice(("in", "out")) if rule is RuleKind.LINE_CROSSING else None,
            dwell_s=dwell,
            geo=GeoPoint(lat=round(lat, 6), lon=round(lon, 6)),
            frame_index=state.frame_index,
            exercise=self._exercise,
        )
        return EventMessage(event=event)


@dataclass(slots=True)
class SimulationSummary:
    """What a simulation run did."""

    generated: int = 0
    published: int = 0
    duplicates: int = 0
    resent: int = 0
    failed: int = 0
    retries: int = 0
    seconds: float = 0.0
    event_ids: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Events newly stored by the bus per second of the run."""
        return self.published / self.seconds if self.seconds > 0 else 0.0


ProgressCallback = Callable[[SimulationSummary], None]


@dataclass(frozen=True, slots=True)
class SimulationLimits:
    """How much and how fast: stops at ``count`` events or after ``duration_s``, whichever is first."""

    rate: float
    count: int | None = None
    duration_s: float | None = None
    concurrency: int = 256
    duplicate_ratio: float = 0.0
    publish_deadline_s: float = 60.0
    keep_ids: bool = False

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise SimulationError(f"rate must be positive, got {self.rate}")
        if self.count is None and self.duration_s is None:
            raise SimulationError("give a count, a duration, or both: the simulation must be bounded")
        if self.count is not None and self.count < 1:
            raise SimulationError(f"count must be at least 1, got {self.count}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise SimulationError(f"duration must be positive, got {self.duration_s}")
        if self.concurrency < 1:
            raise SimulationError(f"concurrency must be at least 1, got {self.concurrency}")
        if not 0.0 <= self.duplicate_ratio <= 1.0:
            raise SimulationError(f"duplicate ratio must be within 0..1, got {self.duplicate_ratio}")


async def _publish_one(
    bus: Bus, message: EventMessage, summary: SimulationSummary, deadline_s: float, resend: bool
) -> None:
    event = message.event
    subject = event_subject(event.sido_code, event.sigungu_code, event.center_id)
    data = message.model_dump_json().encode("utf-8")
    give_up = time.monotonic() + deadline_s
    for copy in range(2 if resend else 1):
        delay = 0.05
        while True:
            try:
                ack = await bus.publish(subject, data, msg_id=str(event.id))
                break
            except BusError as exc:
                if time.monotonic() + delay > give_up:
                    summary.failed += 1
                    logger.error("event %s not published within %.0f s: %s", event.id, deadline_s, exc)
                    return
                summary.retries += 1
                logger.debug("event %s: publish failed (%s); retrying in %.2f s", event.id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, 2.0)
        summary.resent += copy
        if ack.duplicate:
            summary.duplicates += 1
        elif copy == 0:
            summary.published += 1


async def simulate(
    bus: Bus,
    factory: EventFactory,
    limits: SimulationLimits,
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    seed: int = 0,
) -> SimulationSummary:
    """Publish events at ``limits.rate`` (round-robin over random cameras) until a limit is hit.

    Up to ``limits.concurrency`` publishes are in flight; one camera's publishes never overlap.
    A ``duplicate_ratio`` share of events is sent twice (an edge retry), to exercise de-duplication.
    """
    rng = random.Random(seed + 1)
    summary = SimulationSummary()
    window = asyncio.Semaphore(limits.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    end = started + limits.duration_s if limits.duration_s is not None else float("inf")
    count = limits.count if limits.count is not None else 2**62
    states = factory.states

    async def send(state: _CameraState, message: EventMessage, resend: bool) -> None:
        try:
            async with state.lock:
                await _publish_one(bus, message, summary, limits.publish_deadline_s, resend)
        finally:
            window.release()
            if progress is not None:
                progress(summary)

    for i in range(count):
        due = started + i / limits.rate
        now = time.monotonic()
        if due >= end or now >= end or (stop is not None and stop.is_set()):
            break
        if due > now:
            await asyncio.sleep(due - now)
        await window.acquire()
        state = states[rng.randrange(len(states))]
        message = factory.make(state, datetime.now(UTC))
        summary.generated += 1
        if limits.keep_ids:
            summary.event_ids.append(str(message.event.id))
        resend = limits.duplicate_ratio > 0 and rng.random() < limits.duplicate_ratio
        task = asyncio.create_task(send(state, message, resend))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _, late = await asyncio.wait(set(tasks), timeout=limits.publish_deadline_s + 5.0)
        for task in late:
            task.cancel()
        summary.failed += len(late)
    summary.seconds = time.monotonic() - started
    logger.info(
        "simulation: %s generated, %s published, %s duplicates, %s failed in %.1f s (%.0f/s)",
        summary.generated,
        summary.published,
        summary.duplicates,
        summary.failed,
        summary.seconds,
        summary.rate,
    )
    return summary
