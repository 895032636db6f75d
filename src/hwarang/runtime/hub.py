"""The hub as its own process (``hwarang hub``): store, ingest from the bus, API; no cameras.

It talks to edges only through the bus named in the config's ``bus:`` section (NATS in any real
deployment). Cameras listed under ``edge:`` in the same site file are registered with the hub (for
names and the camera list) but not run. SIGTERM or SIGINT stops it gracefully: the API stops
accepting, the ingest loop finishes the batch in hand (commit, then ack) and the bus is closed,
so a restart neither loses nor repeats work.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import uvicorn

from hwarang.api.app import create_app
from hwarang.bus import Bus, BusError
from hwarang.bus.advisories import MaxDeliveriesWatcher
from hwarang.bus.config import CLIPS_STREAM, EVENTS_STREAM, build_bus
from hwarang.bus.healer import SourceHealer
from hwarang.bus.nats import NatsBus
from hwarang.bus.nats_livewire import NatsLiveWire
from hwarang.config import AppConfig
from hwarang.edge.camera_setup import build_camera, build_center
from hwarang.edge.errors import EdgeError
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.clip_worker import ClipWorker
from hwarang.hub.evidence.live_relay import LiveRelay
from hwarang.hub.fusion.camera_config import CameraConfigService
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.runtime.camera_admin import camera_admin
from hwarang.runtime.drones import run_drones
from hwarang.runtime.embedded import api_settings, build_hub, camera_centers
from hwarang.runtime.hub_background import hub_background
from hwarang.runtime.process import install_stop_signals, shared_bus_config
from hwarang.runtime.provenance import hub_check

logger = logging.getLogger(__name__)

INGEST_STOP_TIMEOUT_S = 30.0
HEAL_INTERVAL_S = 2.0


@dataclass
class HubRuntime:
    """A running hub: service, bus and ingest worker."""

    config: AppConfig
    service: HubService
    bus: Bus
    ingest: IngestWorker
    generated_admin_password: str | None
    extra_health: dict[str, Callable[[], object]] = field(default_factory=dict)
    camera_admin: CameraConfigService | None = None
    live_relay: LiveRelay | None = None
    """Live view over the bus (NATS only): leases the edges' cameras for the API's viewers."""

    def health_extra(self) -> dict[str, object]:
        """What ``GET /api/v1/health`` shows under ``extra``: ingest counters and the bus state."""
        out: dict[str, object] = {
            "ingest": self.ingest.stats.as_dict(),
            "dead_letters": self.ingest.stats.dead_letters,
            "bus": bus_health(self.bus),
        }
        for name, getter in self.extra_health.items():
            out[name] = getter()
        return out


def bus_health(bus: Bus) -> dict[str, object]:
    """Backend name and, for NATS, connection state and counters."""
    connected = getattr(bus, "connected", None)
    if connected is None:
        return {"type": "memory"}
    return {
        "type": "nats",
        "connected": bool(connected),
        "disconnects": int(getattr(bus, "disconnects", 0)),
        "reconnects": int(getattr(bus, "reconnects", 0)),
    }


def register_configured_cameras(config: AppConfig, service: HubService) -> int:
    """Upsert every camera of ``config.edge`` into the hub (not run); returns how many."""
    lookup = default_catalog().lookup
    count = 0
    for center_cfg in config.edge.centers:
        try:
            center = build_center(center_cfg, lookup)
            for camera_cfg in center_cfg.cameras:
                service.cameras.upsert(build_camera(camera_cfg, center, lookup))
                count += 1
        except EdgeError as exc:
            logger.warning("center %s: cameras not registered: %s", center_cfg.id, exc)
    return count


@contextlib.asynccontextmanager
async def run_hub(config: AppConfig, *, admin_password: str | None = None) -> AsyncIterator[HubRuntime]:
    """Start the hub's store, bus connection and ingest loop; stop them gracefully on exit."""
    bus_config = shared_bus_config(config, "hub")
    service = build_hub(config)
    generated = service.identity.ensure_admin(admin_password)
    cameras = await asyncio.to_thread(register_configured_cameras, config, service)
    bus = await build_bus(bus_config)
    try:
        async with (
            hub_background(config, service) as probes,
            run_drones(config.hub.drones, service, bus) as drone_probes,
            camera_admin(service, config.edge, bus) as (admin, answers),
        ):
            ingest = IngestWorker(
                bus,
                service.ingest,
                batch=config.hub.ingest_batch,
                health=service.health,
                provenance=hub_check(config),
            )
            stop_ingest = asyncio.Event()
            task = asyncio.create_task(ingest.run(stop_ingest), name="hub-ingest")
            clip_worker = ClipWorker(bus, service.clips)
            clip_task = asyncio.create_task(clip_worker.run(stop_ingest), name="hub-clips")
            runtime = HubRuntime(
                config,
                service,
                bus,
                ingest,
                generated,
                camera_admin=admin,
                live_relay=live_relay(bus, service),
            )
            runtime.extra_health["camera_answers"] = answers.as_dict
            runtime.extra_health["clips"] = clip_worker.stats.as_dict
            runtime.extra_health.update(probes)
            runtime.extra_health.update(drone_probes)
            healer_task = _start_source_healer(runtime, bus_config.leaf_domains, stop_ingest)
            exhausted_task = _start_max_deliveries_watcher(runtime, stop_ingest)
            logger.info(
                "hub started: %s camera(s) registered, database %s", cameras, service.database.masked_url
            )
            try:
                yield runtime
            finally:
                if runtime.live_relay is not None:
                    await runtime.live_relay.close()
                stop_ingest.set()
                try:
                    await asyncio.wait_for(task, timeout=INGEST_STOP_TIMEOUT_S)
                except (TimeoutError, asyncio.CancelledError):
                    logger.error("ingest did not stop within %.0f s; cancelled", INGEST_STOP_TIMEOUT_S)
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(clip_task, timeout=INGEST_STOP_TIMEOUT_S)
                for side_task in (healer_task, exhausted_task):
                    if side_task is not None:
                        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                            await asyncio.wait_for(side_task, timeout=5.0)
            logger.info("hub stopped: %s", ingest.stats)
    finally:
        await bus.close()
        service.database.close()


def live_relay(bus: Bus, service: HubService) -> LiveRelay | None:
    """The hub's live relay on the bus's NATS connection (core subjects); None on an in-memory bus."""
    if not isinstance(bus, NatsBus):
        return None
    wire = NatsLiveWire(bus.client, asyncio.get_running_loop())
    return LiveRelay(wire, center_of=camera_centers(service))


def _start_max_deliveries_watcher(runtime: HubRuntime, stop: asyncio.Event) -> "asyncio.Task[None] | None":
    """Dead-letter events the ingest consumer gave up on (JetStream max-deliveries advisories; NATS only)."""
    if not isinstance(runtime.bus, NatsBus):
        return None
    watcher = MaxDeliveriesWatcher(runtime.bus, EVENTS_STREAM)
    runtime.extra_health["max_deliveries_dead_lettered"] = lambda: watcher.dead_lettered
    return asyncio.create_task(watcher.run(stop), name="max-deliveries")


def _start_source_healer(
    runtime: HubRuntime, leaf_domains: list[str], stop: asyncio.Event
) -> "asyncio.Task[None] | None":
    """Restart the events stream's leaf sources as soon as a leaf is reachable again (NATS only).

    Without it nats-server retries a failed source with a growing back-off, so after a link cut
    or a hub server restart the copy can lag for a minute although the link is back.
    """
    if not leaf_domains or not isinstance(runtime.bus, NatsBus):
        return None
    restarts = [0]
    runtime.extra_health["source_restarts"] = lambda: restarts[0]
    return asyncio.create_task(_heal_sources(runtime.bus, restarts, stop), name="source-healer")


async def _heal_sources(bus: NatsBus, restarts: list[int], stop: asyncio.Event) -> None:
    """Run SourceHealer passes (it restarts every source after the hub's own server came back)."""
    healers = [SourceHealer(bus, stream) for stream in (EVENTS_STREAM, CLIPS_STREAM)]
    while not stop.is_set():
        for healer in healers:
            try:
                await healer.check_once()
            except BusError as exc:
                logger.warning("stream %s: source check failed: %s", healer.stream, exc)
        restarts[0] = sum(healer.restarts for healer in healers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=HEAL_INTERVAL_S)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_until(app_server: uvicorn.Server, stop: asyncio.Event) -> None:
    """Run the web server until ``stop`` is set (or the server ends by itself)."""
    serve = asyncio.create_task(app_server.serve(), name="api")
    waiter = asyncio.create_task(stop.wait(), name="stop")
    try:
        await asyncio.wait({serve, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        app_server.should_exit = True
        waiter.cancel()
        await serve


async def serve_hub(
    config: AppConfig,
    *,
    admin_password: str | None,
    announce: Callable[[HubRuntime], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Run the hub and its API on ``config.api`` until SIGTERM/SIGINT (or ``stop``)."""
    stop = stop or asyncio.Event()
    install_stop_signals(stop)
    async with run_hub(config, admin_password=admin_password) as hub:
        app = create_app(
            hub.service,
            api_settings(config),
            health_extra=hub.health_extra,
            camera_config=hub.camera_admin,
            live_relay=hub.live_relay,
        )
        server = _Server(
            uvicorn.Config(
                app,
                host=config.api.host,
                port=config.api.port,
                log_level="warning",
                lifespan="on",
                **config.api.uvicorn_tls(),
                proxy_headers=False,  # X-Forwarded-For is read only from trusted_proxies (api.clientaddr)
            )
        )
        announce(hub)
        await serve_until(server, stop)
