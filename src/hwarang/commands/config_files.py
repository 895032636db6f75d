"""``hwarang config``: check, show and describe site configuration files."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.common import (
    check_edge_or_exit,
    console,
    load_config_or_exit,
)
from hwarang.config import AppConfig
from hwarang.config.loader import default_config_text

app = typer.Typer(help="Check and show configuration files.", no_args_is_help=True)


@app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Configuration YAML to validate.")]) -> None:
    """Validate a configuration file and summarise it."""
    cfg = load_config_or_exit(path)
    check_edge_or_exit(cfg, str(path))
    cameras = [cam for center in cfg.edge.centers for cam in center.cameras]
    console.print(
        f"{escape(str(path))}: valid; {len(cfg.edge.centers)} center(s), {len(cameras)} camera(s)",
        highlight=False,
        soft_wrap=True,
    )


@app.command("show-default")
def config_show_default() -> None:
    """Print the built-in demo configuration (a starting point for your own)."""
    sys.stdout.write(default_config_text())


@app.command("schema")
def config_schema() -> None:
    """Print the configuration's JSON schema (every field is described)."""
    sys.stdout.write(json.dumps(AppConfig.model_json_schema(), indent=2, ensure_ascii=False) + "\n")
