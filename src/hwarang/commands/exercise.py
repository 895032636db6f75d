"""``hwarang exercise``: validate, run, simulate, evaluate and replay Hwarang exercises."""

import asyncio
import contextlib
import logging
import signal
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from hwarang.commands.audit import DatabaseUrlOption, open_database, resolve_site
from hwarang.commands.common import ConfigOption, console, err, fail, load_config_or_exit

if TYPE_CHECKING:
    from hwarang.domain import Camera
    from hwarang.exercise.plan import ExercisePlan
    from hwarang.exercise.scoring import Evaluation
    from hwarang.exercise.simulate import SimulationConfig

app = typer.Typer(
    help="Hwarang exercises: scenarios, injection, national simulation, evaluation.", no_args_is_help=True
)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
StartOption = Annotated[
    str | None,
    typer.Option(help="Exercise start: ISO time with offset, or 'now' (default: the scenario's start)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Report languages, comma-separated: ko, en.")]


def _site_cameras(config: Path | None) -> "dict[str, Camera] | None":
    if config is None:
        return None
    from hwarang.edge.camera_setup import build_camera, build_center
    from hwarang.edge.errors import EdgeError
    from hwarang.geo.regions import default_catalog

    cfg = load_config_or_exit(config)
    lookup = default_catalog().lookup
    cameras = {}
    try:
        for center_cfg in cfg.edge.centers:
            center = build_center(center_cfg, lookup)
            for camera_cfg in center_cfg.cameras:
                cameras[camera_cfg.id] = build_camera(camera_cfg, center, lookup)
    except EdgeError as exc:
        raise fail(f"{config}: {exc}", 2) from None
    return cameras


def _start(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value == "now":
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"--start {value!r} is not an ISO time such as 2026-08-25T09:00:00+09:00, or 'now'", 2
        ) from None
    if parsed.tzinfo is None:
        raise fail(f"--start {value!r} needs a UTC offset, e.g. +09:00", 2)
    return parsed


def _plan(scenario: Path, start: str | None, config: Path | None) -> "ExercisePlan":
    from hwarang.exercise.plan import plan_exercise
    from hwarang.exercise.scenario import ScenarioError, load_scenario

    try:
        return plan_exercise(load_scenario(scenario), start=_start(start), cameras=_site_cameras(config))
    except ScenarioError as exc:
        err.print(f"[bold red]invalid scenario[/]\n{escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def _languages(value: str) -> list[str]:
    from hwarang.exercise.labels import LANGUAGES

    languages = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown or not languages:
        raise fail(f"--lang {value!r}: choose among {', '.join(LANGUAGES)}", 2)
    return languages


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.", show_default=False)],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Site configuration: check cameras too.")
    ] = None,
) -> None:
    """Check scenario files; every problem names the file, line, column and field (exit 2)."""
    from hwarang.exercise.plan import plan_exercise
    from hwarang.exercise.scenario import ScenarioError, load_scenario

    cameras = _site_cameras(config)
    failed = False
    for path in scenarios:
        try:
            plan = plan_exercise(load_scenario(path), start=datetime.now(UTC), cameras=cameras)
        except ScenarioError as exc:
            failed = True
            err.print(escape(str(exc)), highlight=False)
            continue
        kinds = sorted({i.kind for i in plan.injects})
        console.print(
            f"{escape(str(path))}: ok — {escape(plan.name)}: {len(plan.injects)} injects "
            f"({', '.join(kinds)}) in zones {', '.join(map(str, plan.zones))}",
            highlight=False,
        )
    if failed:
        raise typer.Exit(2)


@app.command()
def overlay(
    scenario: ScenarioArg,
    camera: Annotated[str, typer.Option(help="The camera whose figure injects to draw.")],
    video: Annotated[Path, typer.Option(help="The camera's video file (the overlay's base).")],
    stream_start: Annotated[
        str, typer.Option(help="Wall-clock time of the video's first frame (ISO with offset).")
    ],
    start: StartOption = None,
) -> None:
    """Print the 'overlay' source config that draws the scenario's figures at CAMERA (for the site file)."""
    from hwarang.edge.sources.file import FileSourceConfig
    from hwarang.exercise.figures import figure_injects, overlay_config

    plan = _plan(scenario, start, None)
    first_frame = _start(stream_start)
    if first_frame is None:
        raise fail("--stream-start is required", 2)
    if not figure_injects(plan, camera):
        raise fail(f"{scenario} has no figure inject at camera {camera!r}", 2)
    base = FileSourceConfig(type="file", path=video, start_time=first_frame)
    source = overlay_config(base, plan, camera, first_frame).model_dump(mode="json", exclude_defaults=True)
    source["type"] = "overlay"
    console.print(yaml.safe_dump({"source": source}, allow_unicode=True, sort_keys=False), highlight=False)


@app.command()
def run(
    scenario: ScenarioArg,
    config: ConfigOption = None,
    start: StartOption = None,
    speed: Annotated[float, typer.Option(help="Clock speed: 10 runs the exercise ten times faster.")] = 1.0,
    servers: Annotated[
        list[str] | None, typer.Option("--servers", help="NATS server URL (default: the site's bus).")
    ] = None,
) -> None:
    """Deliver the scenario's injects to the live system on the exercise clock (Ctrl-C stops cleanly).

    Event injects are published on the bus flagged EXERCISE. Figure injects are drawn by an edge camera
    playing an 'overlay' source (see ``hwarang exercise overlay``); ``run`` reports them as delivered
    to the edge only when that source plays in this process.
    """
    from hwarang.bus import BusError
    from hwarang.bus.config import NatsBusConfig, build_bus
    from hwarang.exercise.injector import BusEventSink, Injector, InjectorError, LocalOverlaySink, ScaledClock

    if speed <= 0:
        raise fail(f"--speed must be > 0, got {speed}", 2)
    if start is None and load_scenario_start(scenario) is None:
        start = "now"
    plan = _plan(scenario, start, config)
    default_bus = NatsBusConfig(type="nats", name="exercise")
    bus_cfg = load_config_or_exit(config).bus if config is not None else default_bus
    if servers and isinstance(bus_cfg, NatsBusConfig):
        bus_cfg = bus_cfg.model_copy(update={"servers": servers})
    console.print(
        f"exercise [bold]{escape(plan.name)}[/]: {len(plan.injects)} injects from {plan.start.isoformat()} "
        f"at {speed:g}x",
        highlight=False,
    )

    async def main() -> list[object]:
        bus = await build_bus(bus_cfg)
        injector = Injector(
            plan, ScaledClock(plan.start, speed), events=BusEventSink(bus), figures=LocalOverlaySink()
        )
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, injector.stop)
        try:
            return list(await injector.run())
        finally:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signal.SIGINT)
            await bus.close()

    try:
        records = asyncio.run(main())
    except (BusError, InjectorError, OSError) as exc:
        raise fail(str(exc)) from None
    console.print(f"{len(records)} of {len(plan.injects)} injects delivered", highlight=False)


def load_scenario_start(path: Path) -> datetime | None:
    """The scenario's own start time (None when it has none or cannot be read)."""
    from hwarang.exercise.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path).scenario.start
    except ScenarioError:
        return None


def _zone_table(evaluation: "Evaluation") -> Table:
    from hwarang.exercise.findings import duration

    table = Table("score", "injects", "missed", "late", "median ack.", "median tasking")
    table.add_column("zone", no_wrap=True)
    for score in sorted(evaluation.scores.get("zone", []), key=lambda s: int(s.code)):
        table.add_row(
            f"{score.score:.1f}",
            str(score.injects),
            str(score.missed),
            str(score.late),
            duration(score.median_acknowledge_s),
            duration(score.median_task_s),
            escape(score.name),
        )
    return table


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only errors from logger ``name`` while the block runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _write(evaluation: "Evaluation", out: Path, languages: list[str], pdf: bool) -> list[Path]:
    from hwarang.exercise.report import ReportError, write_report
    from hwarang.geo.regions import default_catalog

    out.mkdir(parents=True, exist_ok=True)
    path = out / "evaluation.json"
    path.write_text(evaluation.model_dump_json(indent=1), encoding="utf-8")
    try:
        return [path, *write_report(evaluation, out, default_catalog(), languages=languages, pdf=pdf)]
    except ReportError as exc:
        raise fail(str(exc)) from None


def _writable_folder(out: Path) -> None:
    """Exit 2 before any work when OUT exists and is not a folder, or cannot be created."""
    if out.exists() and not out.is_dir():
        raise fail(f"--out {out}: exists and is not a folder; give a folder for the reports", 2)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"--out {out}: cannot create the folder: {exc.strerror}", 2) from None


def _simulation_settings(profile: Path | None) -> "SimulationConfig":
    """The simulation settings of PROFILE (defaults without one); exit 2 naming each problem."""
    from hwarang.config.problems import describe_validation_error
    from hwarang.exercise.simulate import SimulationConfig

    if profile is None:
        return SimulationConfig()
    try:
        raw = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise fail(f"--profile {profile}: cannot read: {exc.strerror}", 2) from None
    except yaml.YAMLError as exc:
        raise fail(f"--profile {profile}: not YAML: {exc}", 2) from None
    if not isinstance(raw, dict):
        raise fail(f"--profile {profile}: expected a mapping of simulation settings", 2)
    try:
        return SimulationConfig.model_validate(raw)
    except ValidationError as exc:
        message = describe_validation_error(exc, str(profile), SimulationConfig, what="simulation setting")
        err.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def simulate(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for evaluation.json and the reports.")
    ] = Path("exercise-simulation"),
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the profile's).")] = None,
    profile: Annotated[
        Path | None, typer.Option(help="YAML simulation settings (delays, error rates, zone factors).")
    ] = None,
    injects_per_local_government: Annotated[
        int | None, typer.Option("--injects", help="Injects per local government (default 1).")
    ] = None,
    lang: LangOption = "ko,en",
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write PDF reports.")] = True,
    keep_db: Annotated[bool, typer.Option(help="Keep the simulated hub database in OUT/hub.")] = False,
) -> None:
    """Simulate a national exercise: every zone and local government, simulated operators, real hub."""
    from hwarang.exercise.simulate import SimulationConfig
    from hwarang.exercise.simulate import simulate as run_simulation

    languages = _languages(lang)
    _writable_folder(out)
    settings = _simulation_settings(profile)
    update: dict[str, object] = {}
    if seed is not None:
        update["seed"] = seed
    if injects_per_local_government is not None:
        update["injects_per_local_government"] = injects_per_local_government
    settings = SimulationConfig.model_validate({**settings.model_dump(), **update})
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet("hwarang"))  # simulated overdue tasks would log hundreds of warnings
        workdir = out / "hub" if keep_db else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        result = run_simulation(settings, workdir, progress=lambda m: err.print(escape(m), highlight=False))
        written = _write(result.evaluation, out, languages, pdf)
    seconds = time.perf_counter() - started
    evaluation = result.evaluation
    console.print(_zone_table(evaluation))
    levels = {level: len(scores) for level, scores in evaluation.scores.items()}
    counts = (levels.get(level, 0) for level in ("zone", "sido", "local_government", "agency"))
    scored = "{} zones, {} sido, {} local governments, {} agencies".format(*counts)
    console.print(f"overall {evaluation.overall:.1f}; scored {scored}", highlight=False)
    phases = ", ".join(f"{name} {value:.1f} s" for name, value in result.seconds.items())
    console.print(f"simulation: {phases}; with reports {seconds:.1f} s", highlight=False)
    for path in written:
        console.print(f"  {escape(str(path))}", highlight=False)


@app.command()
def report(
    scenario: Annotated[Path | None, typer.Argument(help="The exercise's scenario file.")] = None,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    start: StartOption = None,
    evaluation_file: Annotated[
        Path | None, typer.Option("--evaluation", help="Re-render a saved evaluation.json instead.")
    ] = None,
    manual: Annotated[Path | None, typer.Option(help="Evaluators' manual scores (YAML).")] = None,
    previous: Annotated[
        Path | None, typer.Option(help="evaluation.json of an earlier exercise, to compare with.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for evaluation.json and reports.")] = Path(
        "exercise-report"
    ),
    lang: LangOption = "ko,en",
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write PDF reports.")] = True,
) -> None:
    """Measure an exercise from the hub's database and write its evaluation and reports."""
    from hwarang.exercise.checklist import load_manual_scores
    from hwarang.exercise.measurement import measure
    from hwarang.exercise.scenario import ScenarioError
    from hwarang.exercise.scoring import Evaluation, evaluate
    from hwarang.geo.regions import default_catalog

    languages = _languages(lang)
    _writable_folder(out)

    def read_evaluation(path: Path) -> Evaluation:
        try:
            return Evaluation.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise fail(f"{path}: not a readable evaluation.json: {exc}", 2) from None

    if evaluation_file is not None:
        evaluation = read_evaluation(evaluation_file)
    else:
        if scenario is None:
            raise fail("give the scenario file (or --evaluation FILE)", 2)
        plan = _plan(scenario, start, None)
        try:
            scores = [] if manual is None else load_manual_scores(manual)
        except ScenarioError as exc:
            raise fail(str(exc), 2) from None
        url, _cfg = resolve_site(config, database_url)
        with open_database(url) as database:
            measurement = measure(database, plan, measured_at=datetime.now(UTC))
        earlier = None if previous is None else read_evaluation(previous)
        evaluation = evaluate(
            measurement, default_catalog(), generated_at=datetime.now(UTC), manual=scores, previous=earlier
        )
    for path in _write(evaluation, out, languages, pdf):
        console.print(escape(str(path)), highlight=False)
    console.print(_zone_table(evaluation))


@app.command()
def replay(
    scenario: ScenarioArg,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    start: StartOption = None,
    speed: Annotated[float, typer.Option(help="Playback speed: 60 plays an hour in a minute.")] = 60.0,
) -> None:
    """Play the exercise's timeline back in time order at SPEED (after-action review)."""
    from hwarang.exercise.measurement import measure
    from hwarang.exercise.replay import ReplayEntry, exercise_timeline, play

    if speed <= 0:
        raise fail(f"--speed must be > 0, got {speed}", 2)
    plan = _plan(scenario, start, None)
    url, _cfg = resolve_site(config, database_url)
    with open_database(url) as database:
        measurement = measure(database, plan, measured_at=datetime.now(UTC))
        entries = exercise_timeline(database, plan, measurement)

    titles = {inject.id: inject.title for inject in plan.injects}

    def show(entry: ReplayEntry) -> None:
        state = f" {entry.from_state}→{entry.to_state}" if entry.to_state else ""
        agency = entry.detail.get("agency_code")
        inject = "(false alarm)" if entry.inject_id is None else titles.get(entry.inject_id, entry.inject_id)
        console.print(
            f"+{entry.offset_s:8.1f}s  {entry.kind:<14} {escape(inject):<18} "
            f"{entry.actor}{state}{'' if agency is None else ' ' + str(agency)}",
            highlight=False,
        )

    played = asyncio.run(play(entries, speed, show))
    console.print(f"{played} steps", highlight=False)


@app.command("drill-scenario")
def drill_scenario_command(
    level: Annotated[int, typer.Option(help="Drill level (1 basic, 2 intermediate, 3 advanced).")],
    sigungu: Annotated[str, typer.Option(help="The trainee's local government code, e.g. 28110.")],
    user: Annotated[str, typer.Option(help="The trainee's username.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Scenario file to write (run it with 'run').")],
    start: StartOption = None,
    certifications: Annotated[
        Path | None,
        typer.Option(help="Certification records: refuse a level whose predecessor is not passed."),
    ] = None,
) -> None:
    """Write a drill scenario for one operator at their local government."""
    from hwarang.exercise.drills import CertificationStore, DrillError, drill_scenario
    from hwarang.geo.errors import GeoError
    from hwarang.geo.regions import default_catalog

    begin = _start(start or "now") or datetime.now(UTC)
    try:
        if certifications is not None:
            CertificationStore(certifications).check_open(user, level)
        scenario = drill_scenario(level, sigungu, user, begin, default_catalog())
    except (DrillError, GeoError) as exc:
        raise fail(str(exc), 2) from None
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    console.print(
        f"{escape(str(out))}: {escape(scenario.name)}, {len(scenario.injects)} injects", highlight=False
    )


@app.command("drill-grade")
def drill_grade_command(
    scenario: ScenarioArg,
    user: Annotated[str, typer.Option(help="The trainee's username.")],
    level: Annotated[int, typer.Option(help="The drill's level.")],
    certifications: Annotated[Path, typer.Option(help="Certification records (JSON lines) to append to.")],
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Grade a drill from the trainee's own steps in the hub and record the result (exit 1 when failed)."""
    from hwarang.exercise.drills import CertificationStore, DrillError, grade_drill
    from hwarang.geo.regions import default_catalog

    plan = _plan(scenario, None, None)
    url, _cfg = resolve_site(config, database_url)
    store = CertificationStore(certifications)
    with open_database(url) as database:
        try:
            result = grade_drill(database, plan, user, level, default_catalog(), graded_at=datetime.now(UTC))
            store.add(result)
            certified = store.certified_level(user)
        except DrillError as exc:
            raise fail(str(exc), 2) from None
    verdict = "passed" if result.passed else "failed"
    weakest = f"; weakest: {', '.join(result.weakest)}" if result.weakest else ""
    console.print(
        f"{escape(user)}: level {level} {verdict} with {result.score:.1f} ({result.own_actions} own steps, "
        f"{result.others_actions} by others{weakest}); certified level {certified}",
        highlight=False,
    )
    if not result.passed:
        raise typer.Exit(1)
