"""``hwarang eval``: analytics measured against ground truth."""

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
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
    from pydantic import TypeAdapter

    from hwarang.edge.analytics.detectors import DetectorConfig
    from hwarang.edge.analytics.tracking import TrackerConfig
    from hwarang.edge.errors import EdgeError
    from hwarang.edge.evaluation import evaluate_mot

    logging.basicConfig(level=logging.WARNING)
    cfg = load_config_or_exit(config)
    _require_files(video, ground_truth)
    _, cam_cfg = pick_camera(cfg, camera)
    try:
        detector_cfg: DetectorConfig = TypeAdapter(DetectorConfig).validate_python(
            _override(cam_cfg.detector.model_dump(exclude_unset=True), detector, "--detector")
        )
    except ValidationError as exc:
        raise _invalid_override(exc, "--detector", DetectorConfig) from None
    try:
        tracker_cfg = TrackerConfig.model_validate(
            _override(cam_cfg.tracker.model_dump(exclude_unset=True), tracker, "--tracker")
        )
    except ValidationError as exc:
        raise _invalid_override(exc, "--tracker", TrackerConfig) from None
    try:
        report = evaluate_mot(video, ground_truth, detector_cfg, tracker_cfg, max_frames=max_frames)
    except EdgeError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")


@app.command("alarms")
def eval_alarms(
    video: Annotated[Path, typer.Argument(help="Video clip to run the camera's whole pipeline on.")],
    ground_truth: Annotated[
        Path, typer.Argument(help="MOTChallenge gt.txt (frame = video frame index + 1).")
    ],
    config: ConfigOption = None,
    camera: Annotated[
        str | None,
        typer.Option(help="Camera whose detector, tracker and rules to use (default: first file camera)."),
    ] = None,
    tolerance_s: Annotated[
        float,
        typer.Option(
            min=0.0, help="Seconds an alarm may come before (or a crossing's alarm after) its due time."
        ),
    ] = 1.0,
    min_iou: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Smallest IoU between an alarm's box and a person.")
    ] = 0.3,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames.")] = None,
) -> None:
    """Score each zone and line rule's alarms (recall, precision, duplicates) on VIDEO; print JSON."""
    from hwarang.edge.camera_setup import build_camera, build_center
    from hwarang.edge.errors import EdgeError
    from hwarang.edge.evaluation import evaluate_alarms
    from hwarang.geo.regions import default_catalog

    logging.basicConfig(level=logging.WARNING)
    cfg = load_config_or_exit(config)
    _require_files(video, ground_truth)
    center_cfg, cam_cfg = pick_camera(cfg, camera)
    lookup = default_catalog().lookup
    try:
        cam = build_camera(cam_cfg, build_center(center_cfg, lookup), lookup)
        report = evaluate_alarms(
            video,
            ground_truth,
            cam,
            cam_cfg,
            tolerance_s=tolerance_s,
            min_iou=min_iou,
            max_frames=max_frames,
        )
    except EdgeError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")


def _invalid_override(exc: ValidationError, option: str, model: object) -> typer.Exit:
    """Print the override's problems in words (key, allowed keys or types); the exit to raise."""
    from hwarang.config.problems import describe_validation_error

    message = describe_validation_error(exc, option, model, what="setting")
    err.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
    return typer.Exit(2)


def _require_files(*paths: Path) -> None:
    """Exit 2 with a clear message naming the first input file that does not exist."""
    for path in paths:
        if not path.is_file():
            err.print(f"[bold red]error[/]: file not found: {escape(str(path))}", highlight=False)
            raise typer.Exit(2)
