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
    err,
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
    warnings = source_warnings(cfg)
    for warning in warnings:
        err.print(f"[yellow]warning[/]: {escape(str(path))}: {escape(warning)}", highlight=False)
    noted = f"; {len(warnings)} warning(s)" if warnings else ""
    console.print(
        f"{escape(str(path))}: valid; {len(cfg.edge.centers)} center(s), {len(cameras)} camera(s){noted}",
        highlight=False,
        soft_wrap=True,
    )


def source_warnings(cfg: AppConfig) -> list[str]:
    """What will keep an enabled camera down although the file is valid: a video file that is missing.

    Paths are read as the edge reads them (relative to the working directory).
    """
    warnings = []
    for i, center in enumerate(cfg.edge.centers):
        for j, camera in enumerate(center.cameras):
            if not camera.enabled:
                continue
            for key, file in _source_files(camera.source):
                if not file.is_file():
                    where = f"edge.centers.{i}.cameras.{j}.source.{key}"
                    warnings.append(
                        f"{where}: video file not found: {file} "
                        f"(camera {camera.id} will be down until the file exists)"
                    )
    return warnings


def _source_files(source: object) -> list[tuple[str, Path]]:
    """``(key path, file)`` of a source's video files (a file source, or the base of an overlay)."""
    path = getattr(source, "path", None)
    if isinstance(path, Path):
        return [("path", path)]
    base = getattr(source, "base", None)
    return [(f"base.{key}", file) for key, file in _source_files(base)] if base is not None else []


@app.command("show-default")
def config_show_default() -> None:
    """Print the built-in demo configuration (a starting point for your own)."""
    sys.stdout.write(default_config_text())


@app.command("schema")
def config_schema() -> None:
    """Print the configuration's JSON schema (every field is described)."""
    sys.stdout.write(json.dumps(AppConfig.model_json_schema(), indent=2, ensure_ascii=False) + "\n")
