"""``hwarang eval``: analytics measured against ground truth."""

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hwarang.commands.analyze import pick_camera
from hwarang.commands.common import (
    ConfigOption,
    err,
    load_config_or_exit,
)

app = typer.Typer(help="Measure analytics against ground truth.", no_args_is_help=True)


def _override(base: dict[str, object], text: str | None, what: str) -> dict[str, object]:
    import yaml

    if text is None:
        return base
    try:
        extra = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        err.print(f"[bold red]error[/]: {what} is not YAML/JSON: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(extra, dict):
        err.print(f"[bold red]error[/]: {what} must be a mapping, e.g. '{{min_confidence: 0.5}}'")
        raise typer.Exit(2)
    if "type" in extra and extra["type"] != base.get("type"):
        return dict(extra)
    # `model` and `model_path` exclude each other: the override's choice replaces the camera's.
    replaced = {"model": "model_path", "model_path": "model"}
    kept = {k: v for k, v in base.items() if not any(replaced.get(key) == k for key in extra)}
    return {**kept, **extra}


@app.command("mot")
def eval_mot(
    video: Annotated[Path, typer.Argument(help="Video clip to run the camera's detector and tracker on.")],
    ground_truth: Annotated[
        Path, typer.Argument(help="MOTChallenge gt.txt (frame = video frame index + 1).")
    ],
    config: ConfigOption = None,
    camera: Annotated[
        str | None,
        typer.Option(help="Camera whose detector and tracker to use (default: first file camera)."),
    ] = None,
    detector: Annotated[
        str | None,
        typer.Option(
            "--detector",
            "--detector-override",
            help="YAML mapping merged over the camera's detector, e.g. "
            "'{type: onnx-yolox, model: yolox_nano, gating: {mode: motion}}'.",
        ),
    ] = None,
    tracker: Annotated[
        str | None, typer.Option(help="YAML mapping merged over the camera's tracker settings.")
    ] = None,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames.")] = None,
) -> None:
    """Score person detection (AP50, precision/recall) and tracking (MOTA, IDF1) on VIDEO; print JSON."""
    from pydantic import TypeAdapter, ValidationError

    from hwarang.edge.analytics.detectors import DetectorConfig
    from hwarang.edge.analytics.tracking import TrackerConfig
    from hwarang.edge.errors import EdgeError
    from hwarang.edge.evaluation import evaluate_mot

    logging.basicConfig(level=logging.WARNING)
    cfg = load_config_or_exit(config)
    for path in (video, ground_truth):
        if not path.is_file():
            err.print(f"[bold red]error[/]: file not found: {escape(str(path))}", highlight=False)
            raise typer.Exit(2)
    _, cam_cfg = pick_camera(cfg, camera)
    try:
        detector_cfg: DetectorConfig = TypeAdapter(DetectorConfig).validate_python(
            _override(cam_cfg.detector.model_dump(exclude_unset=True), detector, "--detector")
        )
        tracker_cfg = TrackerConfig.model_validate(
            _override(cam_cfg.tracker.model_dump(exclude_unset=True), tracker, "--tracker")
        )
    except ValidationError as exc:
        err.print(f"[bold red]error[/]: invalid override: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    try:
        report = evaluate_mot(video, ground_truth, detector_cfg, tracker_cfg, max_frames=max_frames)
    except EdgeError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")
