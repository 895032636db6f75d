"""The edge as its own process (``hwarang edge``): a center's cameras publishing to the bus, no hub.

Events, and each event's clip after it (:class:`~hwarang.edge.clip_publisher.ClipPublisher`), go to
the bus of the config's ``bus:`` section, normally the center's NATS leaf node, which stores them
while the uplink to the hub is down. On NATS the cameras also answer the hub's live-view leases
(:class:`~hwarang.edge.live_sender.LiveSender`): fMP4 on core subjects only while leased.
SIGTERM or SIGINT stops the cameras.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial

from hwarang.bus import Bus
from hwarang.bus.config import build_bus
from hwarang.bus.livewire import LiveWire
from hwarang.bus.nats import NatsBus
from hwarang.bus.nats_livewire import NatsLiveWire
from hwarang.config import AppConfig
from hwarang.edge.clip_publisher import ClipPublisher
from hwarang.edge.commands import consuming_commands
from hwarang.edge.node import Node, create_node
from hwarang.edge.publisher import BusPublisher
from hwarang.edge.signing import center_signers
from hwarang.geo.regions import default_catalog
from hwarang.runtime.process import install_stop_signals, shared_bus_config

logger = logging.getLogger(__name__)

HEALTH_LOG_INTERVAL_S = 60.0
CLIPS_DRAIN_S = 5.0


@dataclass
class EdgeRuntime:
    """A running edge: its cameras, publisher and bus."""

    config: AppConfig
    bus: Bus
    edge: Node
    publisher: BusPublisher
    clips: ClipPublisher
    live_wire: LiveWire | None = None

    def summary(self) -> str:
        """One line: cameras, frames and events so far."""
        health = self.edge.health()
        frames = sum(h.frames_processed for h in health)
        dropped = sum(h.frames_dropped for h in health)
        live = sum(h.live_bytes_sent for h in health)
        viewers = sum(h.live_viewers for h in health)
        return (
            f"{len(health)} camera(s), {frames} frames analysed, {dropped} dropped, "
            f"{self.publisher.published} events published ({self.publisher.failures} publish failures), "
            f"{self.clips.stats.clips} clips sent ({self.clips.stats.dropped} dropped), "
            f"{viewers} live viewer(s), {live} live bytes sent"
        )


@contextlib.asynccontextmanager
async def run_edge(config: AppConfig) -> AsyncIterator[EdgeRuntime]:
    """Connect the bus and start every enabled camera; stop them on exit."""
    signers = center_signers(config.edge.centers)
    bus = await build_bus(shared_bus_config(config, "edge"))
    publisher = BusPublisher(bus, asyncio.get_running_loop(), signers={c: s.sign for c, s in signers.items()})
    clips = ClipPublisher(bus, asyncio.get_running_loop())
    clips.start()
    live_wire = NatsLiveWire(bus.client, asyncio.get_running_loop()) if isinstance(bus, NatsBus) else None
    edge: Node | None = None
    try:
        edge = await asyncio.to_thread(
            partial(create_node, clips=clips, live_wire=live_wire),
            config.edge,
            publisher,
            default_catalog().lookup,
        )
        edge.start()
        async with consuming_commands(bus, edge, [center.id for center in edge.centers]):
            yield EdgeRuntime(config, bus, edge, publisher, clips, live_wire)
    finally:
        publisher.stop()
        if edge is not None:
            await asyncio.to_thread(edge.stop)
        await asyncio.to_thread(clips.wait_idle, CLIPS_DRAIN_S)
        clips.stop()
        await bus.close()


async def serve_edge(
    config: AppConfig,
    *,
    announce: Callable[[EdgeRuntime], None],
    stop: asyncio.Event | None = None,
    health_interval_s: float = HEALTH_LOG_INTERVAL_S,
) -> None:
    """Run the edge until SIGTERM/SIGINT (or ``stop``), logging a health line every interval."""
    stop = stop or asyncio.Event()
    install_stop_signals(stop)
    async with run_edge(config) as runtime:
        announce(runtime)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=health_interval_s)
            logger.info("edge: %s", runtime.summary())
