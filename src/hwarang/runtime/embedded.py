"""The embedded deployment: hub, bus and edge in one process (``hwarang demo``).

The bus is the config's ``bus:`` section: in-memory by default, or NATS (``hwarang demo --bus nats``
starts a local nats-server for it, see :mod:`hwarang.runtime.local_nats`).
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial

import uvicorn

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.bus import Bus, MemoryBus
from hwarang.bus.config import build_bus
from hwarang.bus.livewire import MemoryLiveWire
from hwarang.config import AppConfig
from hwarang.domain import Agency
from hwarang.edge.clip_publisher import ClipPublisher
from hwarang.edge.commands import consuming_commands
from hwarang.edge.node import Node, create_node
from hwarang.edge.publisher import BusPublisher
from hwarang.geo.regions import default_catalog
from hwarang.geo.zones import load_zones
from hwarang.hub.errors import ConflictError
from hwarang.hub.evidence.clip_worker import ClipWorker
from hwarang.hub.evidence.live_relay import LiveRelay
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.camera_config import CameraConfigService
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.identity.passwords import InvalidPasswordError, check_password
from hwarang.hub.identity.users import ADMIN_USERNAME
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.health import HealthBoard
from hwarang.hub.store.monitor import secure_data_dir
from hwarang.runtime.camera_admin import camera_admin
from hwarang.runtime.demo_setup import demo_agencies, demo_users
from hwarang.runtime.drones import run_drones
from hwarang.runtime.hub_background import HealthProbes, hub_background
from hwarang.runtime.provenance import embedded_provenance, hub_check

logger = logging.getLogger(__name__)

BUS_CONDITION = "bus"


@dataclass
class EmbeddedSite:
    """Everything the demo runs, wired together."""

    config: AppConfig
    service: HubService
    bus: Bus
    edge: Node
    ingest: IngestWorker
    publisher: BusPublisher
    generated_admin_password: str | None
    probes: HealthProbes = field(default_factory=dict)
    live_wire: MemoryLiveWire = field(default_factory=MemoryLiveWire)
    camera_admin: CameraConfigService | None = None


def database_url(config: AppConfig) -> str:
    """The configured database, or SQLite inside the hub's data directory."""
    if config.hub.database_url:
        return config.hub.database_url
    return f"sqlite:///{(config.hub.data_dir / 'hub.db').resolve()}"


def build_hub(config: AppConfig) -> HubService:
    """Migrate the database and build the hub service."""
    data_dir = config.hub.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    secure_data_dir(data_dir)
    database = Database(database_url(config))
    database.migrate()
    zones = load_zones()

    def zone_for_sido(code: str) -> int | None:
        zone = zones.zone_for_sido(code)
        return None if zone is None else zone.id

    return HubService(
        database,
        EvidenceStore(data_dir / "evidence"),
        zone_for_sido=zone_for_sido,
        workflow=config.hub.workflow,
        fusion=config.hub.fusion,
        drones=config.hub.drones,
    )


@contextlib.asynccontextmanager
async def run_site(config: AppConfig, *, admin_password: str | None = None) -> AsyncIterator[EmbeddedSite]:
    """Start hub, bus, ingest and edge; stop them in reverse order on exit."""
    service = build_hub(config)
    generated = service.identity.ensure_admin(admin_password)
    signers, provenance = await asyncio.to_thread(embedded_provenance, config)
    bus = await build_bus(config.bus)
    if isinstance(bus, MemoryBus):
        bus.watch_full(partial(show_bus_full, service.health))
    ingest = IngestWorker(
        bus,
        service.ingest,
        batch=config.hub.ingest_batch,
        health=service.health,
        provenance=hub_check(config, provenance),
    )
    stop_ingest = asyncio.Event()
    ingest_task = asyncio.create_task(ingest.run(stop_ingest), name="hub-ingest")
    clip_worker = ClipWorker(bus, service.clips)
    clip_task = asyncio.create_task(clip_worker.run(stop_ingest), name="hub-clips")
    publisher = BusPublisher(bus, asyncio.get_running_loop(), signers={c: s.sign for c, s in signers.items()})
    clips = ClipPublisher(bus, asyncio.get_running_loop())
    clips.start()
    live_wire = MemoryLiveWire()
    edge: Node | None = None
    try:
        async with contextlib.AsyncExitStack() as background:
            edge = await asyncio.to_thread(
                partial(create_node, clips=clips, live_wire=live_wire),
                config.edge,
                publisher,
                default_catalog().lookup,
            )
            for camera in edge.cameras:
                service.cameras.upsert(camera)
            agencies = demo_agencies(config, edge.cameras)
            service.identity.agencies.upsert(agencies, actor="system:demo")
            await asyncio.to_thread(
                add_demo_users, service, [*service.identity.agencies.list()], admin_password or generated
            )
            probes = await background.enter_async_context(hub_background(config, service))
            probes.update(await background.enter_async_context(run_drones(config.hub.drones, service, bus)))
            probes["clips"] = clip_worker.stats.as_dict
            if isinstance(bus, MemoryBus):
                probes["bus"] = bus.stats
            edge.start()
            commands = await background.enter_async_context(
                consuming_commands(bus, edge, [center.id for center in edge.centers])
            )
            admin, answers = await background.enter_async_context(
                camera_admin(service, config.edge, bus, pictures=edge.picture)
            )
            probes["commands"] = commands.stats.as_dict
            probes["camera_answers"] = answers.as_dict
            yield EmbeddedSite(
                config, service, bus, edge, ingest, publisher, generated, probes, live_wire, admin
            )
    finally:
        publisher.stop()
        if edge is not None:
            await asyncio.to_thread(edge.stop)
        await asyncio.to_thread(clips.wait_idle, 5.0)
        clips.stop()
        stop_ingest.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(ingest_task, timeout=10)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(clip_task, timeout=10)
        await bus.close()


def show_bus_full(board: HealthBoard, reason: str | None) -> None:
    """Health is ``degraded`` (condition ``bus``) while the in-memory bus refuses publishes as full."""
    if reason is None:
        board.clear(BUS_CONDITION)
    else:
        board.raise_condition(BUS_CONDITION, "degraded", reason)


def camera_centers(service: HubService) -> Callable[[str], str | None]:
    """The live relay's lookup of a camera's center (its live subjects' center token)."""

    def center_of(camera_id: str) -> str | None:
        camera = service.cameras.get(camera_id)
        return camera.center_id if camera is not None else None

    return center_of


def api_settings(config: AppConfig) -> ApiSettings:
    """API settings from ``HWARANG_API_*``; with no key configured, the JWT secret lives in the data dir."""
    settings = ApiSettings()
    if settings.jwt_secret is None and settings.secret_file is None:
        settings = settings.model_copy(update={"secret_file": config.hub.data_dir / "jwt.secret"})
    return settings


async def serve_demo(
    config: AppConfig, *, admin_password: str | None, announce: Callable[[EmbeddedSite], None]
) -> None:
    """Run the embedded site and its web server until interrupted."""
    async with run_site(config, admin_password=admin_password) as site:
        announce(site)
        app = create_app(
            site.service,
            api_settings(config),
            health_extra=lambda: {
                "cameras": [h.model_dump(mode="json") for h in site.edge.health()],
                "ingest": site.ingest.stats.as_dict(),
                "dead_letters": site.ingest.stats.dead_letters,
                **{name: probe() for name, probe in site.probes.items()},
            },
            camera_config=site.camera_admin,
            live_relay=LiveRelay(site.live_wire, center_of=camera_centers(site.service)),
        )
        server = uvicorn.Server(
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
        await server.serve()


async def serve_demo_on_local_nats(
    config: AppConfig, *, admin_password: str | None, announce: Callable[[EmbeddedSite], None]
) -> None:
    """:func:`serve_demo` on a nats-server started for it (store in ``<data_dir>/nats``)."""
    from hwarang.runtime.local_nats import local_bus_config, local_nats_server

    async with local_nats_server(config.hub.data_dir / "nats", name="demo-nats") as server:
        logger.info("demo bus: local nats-server on %s", server.client_url)
        site_config = config.model_copy(update={"bus": local_bus_config(server, name="demo")})
        await serve_demo(site_config, admin_password=admin_password, announce=announce)


def add_demo_users(service: HubService, agencies: list[Agency], password: str | None) -> list[str]:
    """Create the demo's users (one per agency, see ``demo_users``) that are missing, with the
    admin's password; nothing when that password is unknown (the admin existed before)."""
    if password is None:
        return []
    created = []
    for user in demo_users(agencies):
        if service.identity.users.get(user.username, include_disabled=True) is not None:
            continue
        try:
            service.identity.users.create(user, password, actor="system:demo")
        except ConflictError:
            continue
        created.append(user.username)
    if created:
        logger.info("demo users created (the admin's password): %s", ", ".join(created))
    return created


def admin_password_from_env() -> str | None:
    """``HWARANG_ADMIN_PASSWORD`` when set and not empty; InvalidPasswordError when it breaks the
    password rule (the same rule as every other password)."""
    value = os.environ.get("HWARANG_ADMIN_PASSWORD", "")
    if value:
        try:
            check_password(value, ADMIN_USERNAME)
        except InvalidPasswordError as exc:
            raise InvalidPasswordError(f"HWARANG_ADMIN_PASSWORD: {exc}") from None
    return value or None
