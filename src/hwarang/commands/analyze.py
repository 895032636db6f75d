"""``hwarang analyze``: the edge pipeline over a video file, offline."""

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hwarang.commands.common import (
    ConfigOption,
    console,
    err,
    load_config_or_exit,
    setup_logging,
)
from hwarang.config import AppConfig, CameraConfig
from hwarang.domain import EventMessage
from hwarang.edge.config import CenterConfig


def analyze(
    video: Annotated[Path, typer.Argument(help="Video file to analyse (any format FFmpeg reads).")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write events, one JSON object per line.")
    ],
    config: ConfigOption = None,
    camera: Annotated[
        str | None,
        typer.Option(help="Camera whose detector and rules to use (default: the first file camera)."),
    ] = None,
    snapshots: Annotated[
        Path | None, typer.Option(help="Folder for snapshot JPEGs by SHA-256 (default: OUT with .snapshots).")
    ] = None,
    clips: Annotated[
        Path | None,
        typer.Option(help="Folder for event clips (MP4) by SHA-256 (default: OUT with .clips)."),
    ] = None,
    no_clips: Annotated[bool, typer.Option("--no-clips", help="Cut no event clips.")] = False,
    start_time: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
            help="Wall-clock time of the first frame (UTC if no offset); default: the file's modification "
            "time, so that re-running gives the same event ids.",
        ),
    ] = None,
) -> None:
    """Run the edge pipeline over VIDEO as fast as possible and write its events.

    Exits 1 when the file is truncated (fewer frames than it records) or has decode errors, naming
    the first error; the events found are written all the same.
    """
    from hwarang.edge.camera_setup import build_camera, build_center
    from hwarang.edge.errors import EdgeError
    from hwarang.edge.offline import analyze_file, count_frames, damage_report
    from hwarang.geo.regions import default_catalog
    from hwarang.hub.evidence.store import EvidenceStore

    setup_logging(False)
    logging.getLogger().setLevel(logging.WARNING)
    cfg = load_config_or_exit(config)
    if not video.is_file():
        err.print(f"[bold red]error[/]: video file not found: {escape(str(video))}", highlight=False)
        raise typer.Exit(2)
    center_cfg, cam_cfg = pick_camera(cfg, camera)
    lookup = default_catalog().lookup
    try:
        cam = build_camera(cam_cfg, build_center(center_cfg, lookup), lookup)
    except EdgeError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    store = EvidenceStore(snapshots or out.with_name(out.name + ".snapshots"))
    clip_store = EvidenceStore(clips or out.with_name(out.name + ".clips"), suffix=".mp4")
    out.parent.mkdir(parents=True, exist_ok=True)
    total = count_frames(video)
    columns = (TextColumn("[bold]analyzing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with out.open("w", encoding="utf-8") as sink, Progress(*columns, console=err) as progress:
        task = progress.add_task("frames", total=total)

        def on_event(message: EventMessage) -> None:
            if message.snapshot_jpeg is not None:
                store.put(message.snapshot_jpeg)
            sink.write(message.event.model_dump_json() + "\n")

        try:
            result = analyze_file(
                cam,
                cam_cfg,
                video,
                on_event,
                lambda n: progress.update(task, completed=n),
                start_time=None if start_time is None else aware(start_time),
                on_clip=None if no_clips else lambda clip: clip_store.put(clip.data),
            )
        except EdgeError as exc:
            err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
    console.print(
        f"{result.frames} frames ({result.width}x{result.height}) in {result.seconds:.2f} s = "
        f"[bold]{result.fps:.1f} frames/s[/]; {result.events} events -> {escape(str(out))}"
        + (f"; {result.decode_errors} decode errors" if result.decode_errors else "")
        + (
            f"; {result.clips} clips -> {escape(str(clip_store.root))} (CPU {result.clip_encode_cpu_s:.2f} s "
            f"encoding, {result.clip_cut_cpu_s:.2f} s cutting)"
            if result.clips
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )
    damage = damage_report(result, total, video)
    if damage is not None:
        err.print(
            f"[bold red]error[/]: {escape(damage)} (the events before it are in {escape(str(out))})",
            highlight=False,
        )
        raise typer.Exit(1)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def pick_camera(cfg: AppConfig, camera_id: str | None) -> tuple[CenterConfig, CameraConfig]:
    from hwarang.edge.sources.file import FileSourceConfig

    candidates: list[tuple[CenterConfig, CameraConfig]] = [
        (center, cam) for center in cfg.edge.centers for cam in center.cameras
    ]
    if camera_id is not None:
        chosen = [pair for pair in candidates if pair[1].id == camera_id]
        if not chosen:
            known = ", ".join(cam.id for _, cam in candidates) or "none"
            err.print(
                f"[bold red]error[/]: no camera {escape(repr(camera_id))} in the configuration "
                f"(known: {escape(known)})",
                highlight=False,
            )
            raise typer.Exit(2)
        return chosen[0]
    files = [pair for pair in candidates if isinstance(pair[1].source, FileSourceConfig)]
    if not files:
        err.print("[bold red]error[/]: the configuration has no file camera; name one with --camera")
        raise typer.Exit(2)
    return files[0]
