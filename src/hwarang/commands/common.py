"""What every command shares: consoles, the config option, logging set-up and error exits."""

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from hwarang.config import AppConfig, ConfigError, load_config

console = Console(soft_wrap=True)
# Errors name files and key paths: never hard-wrap them (a folded path cannot be copied).
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Site configuration YAML; the built-in demo config when omitted."),
]


def setup_logging(verbose: bool) -> None:
    """Log to stderr, INFO (DEBUG when verbose)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def load_config_or_exit(path: Path | None) -> AppConfig:
    """The site configuration, or exit 2 with the loader's message (file, key path, value)."""
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` and return the exit to raise."""
    err.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
    return typer.Exit(code)


def check_edge_or_exit(cfg: AppConfig, source: str) -> None:
    """Resolve every center and camera as the edge will (region lookup); exit 2 naming the key path."""
    from hwarang.edge.camera_setup import build_camera, build_center
    from hwarang.edge.errors import EdgeError
    from hwarang.geo.regions import default_catalog

    lookup = default_catalog().lookup
    for i, center_cfg in enumerate(cfg.edge.centers):
        loc = f"edge.centers.{i}"
        try:
            center = build_center(center_cfg, lookup)
            for j, camera_cfg in enumerate(center_cfg.cameras):
                loc = f"edge.centers.{i}.cameras.{j}"
                build_camera(camera_cfg, center, lookup)
        except EdgeError as exc:
            err.print(
                f"[bold red]configuration error[/]\n{escape(source)}: {loc}: {escape(str(exc))}",
                highlight=False,
            )
            raise typer.Exit(2) from None
