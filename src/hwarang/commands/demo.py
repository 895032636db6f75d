"""``hwarang version`` and ``hwarang demo``: the embedded site."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang import __version__
from hwarang.commands.common import (
    ConfigOption,
    check_edge_or_exit,
    console,
    err,
    fail,
    load_config_or_exit,
    setup_logging,
)
from hwarang.config.loader import BUILTIN_SOURCE


def version() -> None:
    """Print the version."""
    console.print(f"hwarang {__version__}")


def demo(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address (default from config: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from config: 8080).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Hub data directory (database, evidence, keys).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    bus: Annotated[
        str | None,
        typer.Option(help="'nats': start a local nats-server and use it instead of the config's bus."),
    ] = None,
) -> None:
    """Run hub, bus (in-memory, or NATS) and edge cameras in one process, with the web page on HOST:PORT."""
    from hwarang.runtime.demo_setup import prepare_demo_config
    from hwarang.runtime.embedded import (
        EmbeddedSite,
        admin_password_from_env,
        serve_demo,
        serve_demo_on_local_nats,
    )

    if bus not in (None, "memory", "nats"):
        err.print(f"[bold red]error[/]: --bus must be 'memory' or 'nats', got {escape(repr(bus))}")
        raise typer.Exit(2)

    setup_logging(verbose)
    cfg = load_config_or_exit(config)
    check_edge_or_exit(cfg, str(config) if config is not None else BUILTIN_SOURCE)
    cfg, notes = prepare_demo_config(cfg, host=host, port=port, data_dir=data_dir)
    for note in notes:
        err.print(f"[yellow]{escape(note)}[/]", highlight=False)

    def announce(site: EmbeddedSite) -> None:
        url = f"http://{cfg.api.host}:{cfg.api.port}/"
        running = [health.camera_id for health in site.edge.health()]
        console.print(
            f"[bold green]Hwarang demo[/] on [link={url}]{url}[/link]  "
            f"cameras: {', '.join(running) or 'none'}"
        )
        if site.generated_admin_password:
            console.print(
                "first start: created user [bold]admin[/] with password "
                f"[bold]{site.generated_admin_password}[/] "
                "(shown once; set HWARANG_ADMIN_PASSWORD to choose it)",
                highlight=False,
            )
        console.print("press Ctrl+C to stop")

    from hwarang.hub.identity.passwords import InvalidPasswordError

    try:
        admin_password = admin_password_from_env()
    except InvalidPasswordError as exc:
        raise fail(str(exc), 2) from None
    try:
        serve = serve_demo_on_local_nats if bus == "nats" else serve_demo
        asyncio.run(serve(cfg, admin_password=admin_password, announce=announce))
    except KeyboardInterrupt:
        console.print("stopped")
