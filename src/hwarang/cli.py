"""The ``hwarang`` command line."""

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwarang import __version__
from hwarang.config import AppConfig, CameraConfig, ConfigError, load_config
from hwarang.config.loader import BUILTIN_SOURCE, default_config_text
from hwarang.domain import EventMessage
from hwarang.edge.config import CenterConfig

app = typer.Typer(help="Hwarang: integrated defense information sharing.", no_args_is_help=True)
regions_app = typer.Typer(
    help="Korean administrative regions and Hwarang exercise zones.", no_args_is_help=True
)
config_app = typer.Typer(help="Check and show configuration files.", no_args_is_help=True)
app.add_typer(regions_app, name="regions")
app.add_typer(config_app, name="config")
nats_app = typer.Typer(help="NATS server configuration for leaf nodes and hubs.", no_args_is_help=True)
app.add_typer(nats_app, name="nats")
models_app = typer.Typer(
    help="The model store: import and list detector models (no network).", no_args_is_help=True
)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(help="Measure analytics against ground truth.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

console = Console(soft_wrap=True)
# Errors name files and key paths: never hard-wrap them (a folded path cannot be copied).
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Site configuration YAML; the built-in demo config when omitted."),
]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _load(path: Path | None) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def _check_edge(cfg: AppConfig, source: str) -> None:
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


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"hwarang {__version__}")


@app.command()
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
    from hwarang.demo_setup import prepare_demo_config
    from hwarang.embedded import EmbeddedSite, admin_password_from_env, serve_demo, serve_demo_on_local_nats

    if bus not in (None, "memory", "nats"):
        err.print(f"[bold red]error[/]: --bus must be 'memory' or 'nats', got {escape(repr(bus))}")
        raise typer.Exit(2)

    _setup_logging(verbose)
    cfg = _load(config)
    _check_edge(cfg, str(config) if config is not None else BUILTIN_SOURCE)
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

    try:
        serve = serve_demo_on_local_nats if bus == "nats" else serve_demo
        asyncio.run(serve(cfg, admin_password=admin_password_from_env(), announce=announce))
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
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
    start_time: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
            help="Wall-clock time of the first frame (UTC if no offset); default: the file's modification "
            "time, so that re-running gives the same event ids.",
        ),
    ] = None,
) -> None:
    """Run the edge pipeline over VIDEO as fast as possible and write its events."""
    from hwarang.edge.camera_setup import build_camera, build_center
    from hwarang.edge.errors import EdgeError
    from hwarang.edge.offline import analyze_file, count_frames
    from hwarang.geo.regions import default_catalog
    from hwarang.hub.evidence import EvidenceStore

    _setup_logging(False)
    logging.getLogger().setLevel(logging.WARNING)
    cfg = _load(config)
    if not video.is_file():
        err.print(f"[bold red]error[/]: video file not found: {escape(str(video))}", highlight=False)
        raise typer.Exit(2)
    center_cfg, cam_cfg = _pick_camera(cfg, camera)
    lookup = default_catalog().lookup
    try:
        cam = build_camera(cam_cfg, build_center(center_cfg, lookup), lookup)
    except EdgeError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    store = EvidenceStore(snapshots or out.with_name(out.name + ".snapshots"))
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
                start_time=None if start_time is None else _aware(start_time),
            )
        except EdgeError as exc:
            err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
    console.print(
        f"{result.frames} frames ({result.width}x{result.height}) in {result.seconds:.2f} s = "
        f"[bold]{result.fps:.1f} frames/s[/]; {result.events} events -> {escape(str(out))}"
        + (f"; {result.decode_errors} decode errors" if result.decode_errors else ""),
        highlight=False,
        soft_wrap=True,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _pick_camera(cfg: AppConfig, camera_id: str | None) -> tuple[CenterConfig, CameraConfig]:
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


@regions_app.command("lookup")
def regions_lookup(
    lat: Annotated[float, typer.Argument(help="Latitude (WGS84).")],
    lon: Annotated[float, typer.Argument(help="Longitude (WGS84).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which sido, local government and exercise zone a point lies in."""
    from hwarang.geo.errors import GeoError
    from hwarang.geo.regions import default_catalog

    try:
        found = default_catalog().lookup(lat, lon)
    except GeoError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if found is None:
        err.print(f"{lat}, {lon} is not inside a Korean administrative region (at sea or abroad)")
        raise typer.Exit(1)
    if as_json:
        console.print_json(found.model_dump_json())
        return
    zone = f"zone {found.zone_id} {found.zone_name}" if found.zone_id is not None else "no exercise zone"
    console.print(
        f"{found.sido_name} {found.sigungu_name or ''}  (sido {found.sido_code}, "
        f"local government {found.sigungu_code}; {zone})",
        highlight=False,
    )


@regions_app.command("list")
def regions_list(
    sido: Annotated[str | None, typer.Option(help="List the local governments of this sido code.")] = None,
) -> None:
    """List the 17 sido, or the local governments of one sido."""
    from hwarang.geo.errors import GeoError
    from hwarang.geo.regions import default_catalog

    catalog = default_catalog()
    try:
        regions = catalog.sidos() if sido is None else catalog.sigungus(sido)
    except GeoError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    table = Table("code", "name")
    for region in regions:
        table.add_row(region.code, region.name)
    console.print(table)


@regions_app.command("zones")
def regions_zones() -> None:
    """The 11 Hwarang exercise zones and the sido in each (configuration)."""
    from hwarang.geo.regions import default_catalog
    from hwarang.geo.zones import load_zones

    catalog = default_catalog()
    table = Table("zone", "name", "sido")
    for zone in load_zones().zones:
        names = ", ".join(catalog.get(code).name for code in zone.sido_codes)
        table.add_row(str(zone.id), f"{zone.name} ({zone.name_en})", names)
    console.print(table)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Configuration YAML to validate.")]) -> None:
    """Validate a configuration file and summarise it."""
    cfg = _load(path)
    _check_edge(cfg, str(path))
    cameras = [cam for center in cfg.edge.centers for cam in center.cameras]
    console.print(
        f"{escape(str(path))}: valid; {len(cfg.edge.centers)} center(s), {len(cameras)} camera(s)",
        highlight=False,
        soft_wrap=True,
    )


@config_app.command("show-default")
def config_show_default() -> None:
    """Print the built-in demo configuration (a starting point for your own)."""
    sys.stdout.write(default_config_text())


@config_app.command("schema")
def config_schema() -> None:
    """Print the configuration's JSON schema (every field is described)."""
    sys.stdout.write(json.dumps(AppConfig.model_json_schema(), indent=2, ensure_ascii=False) + "\n")


@nats_app.command("config")
def nats_config(
    role: Annotated[str, typer.Option(help="leaf (a center), regional or national hub.")],
    node_id: Annotated[str, typer.Option("--id", help="Center id (leaf), region id (regional) or hub id.")],
    out: Annotated[Path, typer.Option(help="Directory for <name>.conf and <name>.secrets.conf.")] = Path(
        "nats"
    ),
    store_dir: Annotated[Path | None, typer.Option(help="JetStream store directory.")] = None,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Client port.")] = 4222,
    http_port: Annotated[int, typer.Option(help="Monitoring port (/healthz).")] = 8222,
    leaf_port: Annotated[int, typer.Option(help="Hubs: port accepting leaf nodes.")] = 7422,
    uplink: Annotated[
        list[str] | None, typer.Option(help="nats-leaf://HOST:PORT of the upstream hub.")
    ] = None,
    leaf: Annotated[list[str] | None, typer.Option(help="Hubs: a downstream leaf id (repeat).")] = None,
    direct_center: Annotated[
        list[str] | None, typer.Option(help="Hubs: a center whose edge connects without a leaf.")
    ] = None,
    agency: Annotated[
        list[str] | None, typer.Option(help="Agency liaison users (default: all four).")
    ] = None,
    secrets: Annotated[Path | None, typer.Option(help="Password store (default OUT/secrets.json).")] = None,
) -> None:
    """Write a nats-server config for one role, with generated passwords in 0600 secrets files."""
    from hwarang.bus import BusError
    from hwarang.bus.natsconfig import AGENCIES, Listen, generate

    if role not in ("leaf", "regional", "national"):
        err.print(f"[bold red]--role must be leaf, regional or national, not {escape(role)!r}[/]")
        raise typer.Exit(2)
    try:
        result = generate(
            role,  # type: ignore[arg-type]
            node_id,
            out,
            store_dir=store_dir or Path("/var/lib/hwarang/nats") / f"{role}-{node_id}",
            listen=Listen(host, port, http_port, None if role == "leaf" else leaf_port),
            uplink_urls=uplink or (),
            leaves=leaf or (),
            direct_centers=direct_center or (),
            agencies=agency or AGENCIES,
            secrets_path=secrets,
        )
    except BusError as exc:
        err.print(f"[bold red]error[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"wrote {result.config_path} (JetStream domain {result.domain})", highlight=False)
    console.print(
        f"secrets in {result.secrets_path} (mode 0600; users: {', '.join(sorted(result.users))})",
        highlight=False,
    )


from hwarang import cli_procs  # noqa: E402  (hub, edge and simulate live there)

cli_procs.register(app)


StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Model store folder (default: $HWARANG_MODEL_STORE or var/models)."),
]


@models_app.command("import")
def models_import(
    path: Annotated[
        Path, typer.Argument(help="Model file: .onnx, or an OpenVINO .xml with its .bin beside it.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Name detectors use (`model: NAME`); default: file stem.")
    ] = None,
    runtime: Annotated[
        str | None, typer.Option(help="onnx or openvino; default: from the extension.")
    ] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the weights, e.g. Apache-2.0.")] = None,
    labels: Annotated[
        str | None, typer.Option(help="Comma-separated class names by output id, if the file has none.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Check PATH is a model, copy it into the model store with its SHA-256 and a model card."""
    from hwarang.edge.models import RUNTIMES, ModelStore, ModelStoreError

    if runtime is not None and runtime not in RUNTIMES:
        err.print(f"[bold red]error[/]: --runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        raise typer.Exit(2)
    label_list = [part.strip() for part in labels.split(",") if part.strip()] if labels else None
    try:
        card = ModelStore(store).import_model(
            path,
            name=name,
            runtime=runtime,
            licence=licence,
            labels=label_list,
        )
    except ModelStoreError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    console.print(
        f"imported [bold]{escape(card.name)}[/] ({card.runtime}, input {card.input_shape}, "
        f"sha256 {card.sha256[:16]}...); use `model: {escape(card.name)}` in a detector config",
        highlight=False,
    )


@models_app.command("list")
def models_list(
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model cards as JSON.")] = False,
) -> None:
    """List the models in the store."""
    from hwarang.edge.models import ModelStore, ModelStoreError

    model_store = ModelStore(store)
    try:
        cards = model_store.list()
    except ModelStoreError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps([card.model_dump(mode="json") for card in cards], indent=2) + "\n")
        return
    if not cards:
        console.print(
            f"no models in {escape(str(model_store.root))}; add one with `hwarang models import PATH`"
        )
        return
    table = Table("name", "runtime", "input", "labels", "licence", "sha256")
    for card in cards:
        labels_text = "-" if card.labels is None else f"{len(card.labels)}: {', '.join(card.labels[:4])}..."
        table.add_row(
            card.name, card.runtime, str(card.input_shape), labels_text, card.licence or "-", card.sha256[:16]
        )
    console.print(table)


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
    return {**base, **extra}


@eval_app.command("mot")
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
    cfg = _load(config)
    for path in (video, ground_truth):
        if not path.is_file():
            err.print(f"[bold red]error[/]: file not found: {escape(str(path))}", highlight=False)
            raise typer.Exit(2)
    _, cam_cfg = _pick_camera(cfg, camera)
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
