"""``hwarang hub``, ``hwarang edge`` and ``hwarang simulate``: the separate processes."""

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwarang.bus.base import BusError
from hwarang.commands.common import (
    console,
    err,
    fail,
    load_config_or_exit,
    setup_logging,
)

if TYPE_CHECKING:
    from hwarang.bus.config import MemoryBusConfig, NatsBusConfig
    from hwarang.edge.loadgen import SimulationLimits, SimulationSummary


ConfigFile = Annotated[
    Path, typer.Option("--config", "-c", help="Site configuration YAML (with a nats bus).")
]


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]


def hub(
    config: ConfigFile,
    host: Annotated[str | None, typer.Option(help="API listen address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="API listen port (default from config).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Hub data directory (overrides config).")] = None,
    verbose: Verbose = False,
) -> None:
    """Run the hub alone: ingest from the bus, store, API and page; no cameras. Stops on SIGTERM."""
    from hwarang.hub.errors import StoreError
    from hwarang.runtime.embedded import admin_password_from_env
    from hwarang.runtime.hub import HubRuntime, serve_hub
    from hwarang.runtime.process import ProcessConfigError

    setup_logging(verbose)
    cfg = load_config_or_exit(config)
    api = cfg.api.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    hub_cfg = cfg.hub if data_dir is None else cfg.hub.model_copy(update={"data_dir": data_dir})
    cfg = cfg.model_copy(update={"api": api, "hub": hub_cfg})

    def announce(runtime: HubRuntime) -> None:
        url = f"http://{cfg.api.host}:{cfg.api.port}/"
        console.print(f"[bold green]Hwarang hub[/] on [link={url}]{url}[/link], ingesting from the bus")
        if runtime.generated_admin_password:
            console.print(
                f"first start: created user [bold]admin[/] with password "
                f"[bold]{runtime.generated_admin_password}[/] (shown once)",
                highlight=False,
            )

    from hwarang.hub.identity.passwords import InvalidPasswordError

    try:
        admin_password = admin_password_from_env()
    except InvalidPasswordError as exc:
        raise fail(str(exc), 2) from None
    try:
        asyncio.run(serve_hub(cfg, admin_password=admin_password, announce=announce))
    except (ProcessConfigError, BusError, StoreError) as exc:
        raise fail(str(exc), 2 if isinstance(exc, ProcessConfigError) else 1) from None
    console.print("hub stopped")


def edge(config: ConfigFile, verbose: Verbose = False) -> None:
    """Run the edge alone: the config's cameras publish events to the bus. Stops on SIGTERM."""
    from hwarang.edge.errors import EdgeError
    from hwarang.runtime.edge import EdgeRuntime, serve_edge
    from hwarang.runtime.process import ProcessConfigError

    setup_logging(verbose)
    cfg = load_config_or_exit(config)

    def announce(runtime: EdgeRuntime) -> None:
        cameras = ", ".join(h.camera_id for h in runtime.edge.health()) or "none"
        console.print(f"[bold green]Hwarang edge[/] publishing to the bus; cameras: {escape(cameras)}")

    try:
        asyncio.run(serve_edge(cfg, announce=announce))
    except (ProcessConfigError, BusError, EdgeError) as exc:
        raise fail(str(exc), 2 if isinstance(exc, ProcessConfigError) else 1) from None
    console.print("edge stopped")


def simulate(
    centers: Annotated[int, typer.Option(help="Local governments to simulate (1..229).")] = 228,
    cameras_per_center: Annotated[int, typer.Option(help="Cameras per center.")] = 4,
    rate: Annotated[float, typer.Option(help="Target events per second, all cameras together.")] = 500.0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many events.")] = None,
    bus: Annotated[
        Literal["nats", "memory"] | None,
        typer.Option(help="'nats' (default) or 'memory' (a dry run of the generator)."),
    ] = None,
    servers: Annotated[
        list[str] | None, typer.Option("--servers", help="NATS server URL (repeat for several).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Take the bus (servers, user...) from this site file."),
    ] = None,
    manage_streams: Annotated[
        Literal["none", "hub", "edge"],
        typer.Option(help="Streams to create first when publishing to NATS ('none': they must exist)."),
    ] = "none",
    duplicates: Annotated[float, typer.Option(help="Share of events sent twice (edge retries).")] = 0.0,
    concurrency: Annotated[int, typer.Option(help="Publishes in flight at once.")] = 256,
    seed: Annotated[int, typer.Option(help="Random seed (cameras and events).")] = 0,
    live: Annotated[bool, typer.Option(help="Mark events as real (default: exercise events).")] = False,
    verbose: Verbose = False,
) -> None:
    """Publish realistic events from simulated control centers to measure the hub (bounded)."""
    from hwarang.bus.config import MemoryBusConfig, NatsBusConfig
    from hwarang.edge.loadgen import SimulationError, SimulationLimits

    setup_logging(verbose)
    logging.getLogger().setLevel(logging.DEBUG if verbose else logging.WARNING)
    if count is None and duration is None:
        raise fail("give --count or --duration (or both): the simulation must be bounded", 2)
    default_cfg = NatsBusConfig(type="nats", name="simulate")
    bus_cfg: MemoryBusConfig | NatsBusConfig = (
        load_config_or_exit(config).bus if config is not None else default_cfg
    )
    if bus == "memory":
        bus_cfg = MemoryBusConfig()
    elif isinstance(bus_cfg, NatsBusConfig):
        update: dict[str, object] = {"manage_streams": manage_streams}
        if servers:
            update["servers"] = servers
        bus_cfg = bus_cfg.model_copy(update=update)
    elif bus == "nats" or servers:
        bus_cfg = NatsBusConfig(type="nats", name="simulate", servers=servers or ["nats://127.0.0.1:4222"])
    try:
        limits = SimulationLimits(
            rate=rate, count=count, duration_s=duration, concurrency=concurrency, duplicate_ratio=duplicates
        )
        summary = asyncio.run(
            _run_simulation(bus_cfg, limits, centers, cameras_per_center, seed=seed, exercise=not live)
        )
    except (SimulationError, BusError) as exc:
        raise fail(str(exc), 2 if isinstance(exc, SimulationError) else 1) from None
    table = Table("published", "bus duplicates", "sent twice", "failed", "retries", "seconds", "events/s")
    table.add_row(
        str(summary.published),
        str(summary.duplicates),
        str(summary.resent),
        str(summary.failed),
        str(summary.retries),
        f"{summary.seconds:.1f}",
        f"{summary.rate:.0f} (target {rate:.0f})",
    )
    console.print(table)
    if summary.failed:
        raise typer.Exit(1)


async def _run_simulation(
    bus_cfg: "MemoryBusConfig | NatsBusConfig",
    limits: "SimulationLimits",
    centers: int,
    cameras_per_center: int,
    *,
    seed: int,
    exercise: bool,
) -> "SimulationSummary":
    from hwarang.bus.config import build_bus
    from hwarang.edge.loadgen import EventFactory, build_cameras, simulate
    from hwarang.geo.regions import default_catalog

    cameras = await asyncio.to_thread(
        build_cameras, default_catalog(), centers=centers, cameras_per_center=cameras_per_center, seed=seed
    )
    factory = EventFactory(cameras, seed=seed, exercise=exercise)
    total = limits.count if limits.count is not None else int(limits.rate * (limits.duration_s or 0.0))
    bus = await build_bus(bus_cfg)
    columns = (TextColumn("[bold]publishing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("events", total=total)
            return await simulate(
                bus,
                factory,
                limits,
                progress=lambda s: progress.update(task, completed=s.published + s.duplicates + s.failed),
                seed=seed,
            )
    finally:
        await bus.close()
