"""The hub's drone intake at run time: Remote ID over UDP into the DroneHub, reports onto the bus.

- :class:`RemoteIdPump`: the UDP receiver's callback puts each Remote ID state on a bounded queue
  (never blocking the event loop; full: dropped and counted); a task drains it in batches and
  applies them to the :class:`~hwarang.hub.drones.hub.DroneHub` in a worker thread (the store is
  synchronous).
- :class:`DroneBusPublisher`: every applied report goes to ``hwarang.drones.<source>.<track>``
  through a bounded queue (drop-and-count when the bus is slower than the air picture).
- :func:`run_drones`: attaches the DroneHub to the service, starts both, and the receiver when
  ``hub.drones.remote_id_udp.enabled``.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from hwarang.bus import Bus, BusError
from hwarang.bus.subjects import drone_subject
from hwarang.config.models import HubDroneConfig
from hwarang.domain import DroneReport
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.drones.tracks import report_from_remote_id
from hwarang.hub.service import HubService
from hwarang.interop.remote_id_state import RemoteIdState
from hwarang.interop.remote_id_udp import RemoteIdUdpReceiver

logger = logging.getLogger(__name__)

__all__ = ["DroneBusPublisher", "PumpStats", "RemoteIdPump", "run_drones"]

QUEUE_SIZE = 10_000
BATCH = 256


@dataclass(slots=True)
class PumpStats:
    """Counters of a queue between a producer and the hub."""

    received: int = 0
    applied: int = 0
    dropped: int = 0
    without_id: int = 0
    failed: int = 0


class RemoteIdPump:
    """From the receiver's callback (event loop) to :meth:`DroneHub.apply` (worker thread)."""

    def __init__(self, drones: DroneHub, *, queue_size: int = QUEUE_SIZE) -> None:
        self.drones = drones
        self.stats = PumpStats()
        self._queue: asyncio.Queue[RemoteIdState] = asyncio.Queue(queue_size)

    def offer(self, state: RemoteIdState) -> None:
        """Queue a state without blocking; dropped and counted when the queue is full."""
        self.stats.received += 1
        try:
            self._queue.put_nowait(state)
        except asyncio.QueueFull:
            self.stats.dropped += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Apply queued states in batches until ``stop`` is set (then what is queued is applied)."""
        while not (stop.is_set() and self._queue.empty()):
            getter = asyncio.ensure_future(self._queue.get())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not getter.done():
                getter.cancel()
                continue
            states = [getter.result()]
            while len(states) < BATCH and not self._queue.empty():
                states.append(self._queue.get_nowait())
            await self._apply(states)

    async def _apply(self, states: list[RemoteIdState]) -> None:
        reports = []
        for state in states:
            report = report_from_remote_id(state, receiver_id=f"udp:{state.sender}"[:64])
            if report is None:
                self.stats.without_id += 1
            else:
                reports.append(report)
        if not reports:
            return
        try:
            await asyncio.to_thread(self.drones.apply, reports)
            self.stats.applied += len(reports)
        except Exception:  # top of the intake loop: log with context and carry on
            self.stats.failed += len(reports)
            logger.exception(
                "%s Remote ID reports (first %s) could not be applied", len(reports), reports[0].key
            )


class DroneBusPublisher:
    """Puts reports on the bus from any thread, in order, through a bounded queue."""

    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop, *, queue_size: int = QUEUE_SIZE) -> None:
        self.bus = bus
        self.loop = loop
        self.stats = PumpStats()
        self._queue: asyncio.Queue[DroneReport] = asyncio.Queue(queue_size)

    def offer(self, report: DroneReport) -> None:
        """Hand a report over (thread-safe, never blocks)."""
        self.loop.call_soon_threadsafe(self._put, report)

    def _put(self, report: DroneReport) -> None:
        self.stats.received += 1
        try:
            self._queue.put_nowait(report)
        except asyncio.QueueFull:
            self.stats.dropped += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set."""
        while not (stop.is_set() and self._queue.empty()):
            try:
                report = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            subject = drone_subject(report.source.value, report.track_id)
            try:
                await self.bus.publish(
                    subject,
                    report.model_dump_json().encode(),
                    msg_id=f"{report.key}|{report.time.isoformat()}",
                )
                self.stats.applied += 1
            except BusError as exc:
                self.stats.failed += 1
                logger.warning("drone report of %s not published on %s: %s", report.key, subject, exc)


@contextlib.asynccontextmanager
async def run_drones(
    config: HubDroneConfig, service: HubService, bus: Bus
) -> AsyncIterator[dict[str, Callable[[], object]]]:
    """Run the service's DroneHub: publish its reports, and run the UDP intake when enabled; yields probes."""
    drones = service.drones  # built with ``config`` (HubService(drones=...))
    stop = asyncio.Event()
    publisher = DroneBusPublisher(bus, asyncio.get_running_loop())
    drones.publisher = publisher.offer
    tasks = [asyncio.create_task(publisher.run(stop), name="drone-bus")]
    receiver: RemoteIdUdpReceiver | None = None
    pump = RemoteIdPump(drones)
    port = 0
    try:
        if config.remote_id_udp.enabled:
            tasks.append(asyncio.create_task(pump.run(stop), name="remote-id-intake"))
            receiver = RemoteIdUdpReceiver(pump.offer, config.remote_id_udp)
            port = (await receiver.start())[1]
        yield {
            "drones": lambda: {
                "tracks": len(drones.tracks()),
                "bus": _counts(publisher),
                "remote_id_udp": None if receiver is None else _counts_of(pump, receiver, port),
            }
        }
    finally:
        drones.publisher = None
        if receiver is not None:
            await receiver.stop()
        stop.set()
        for task in tasks:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5.0)


def _counts(publisher: DroneBusPublisher) -> dict[str, int]:
    s = publisher.stats
    return {"received": s.received, "published": s.applied, "dropped": s.dropped, "failed": s.failed}


def _counts_of(pump: RemoteIdPump, receiver: RemoteIdUdpReceiver, port: int) -> dict[str, object]:
    s, r = pump.stats, receiver.stats
    return {
        "port": port,
        "datagrams": r.datagrams,
        "decode_errors": r.errors,
        "states": s.received,
        "applied": s.applied,
        "dropped": s.dropped,
        "without_id": s.without_id,
        "failed": s.failed,
        "last_error": r.last_error,
    }
