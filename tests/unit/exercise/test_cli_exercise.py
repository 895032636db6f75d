"""`hwarang exercise validate | overlay | report | replay` on small inputs."""

import json
from datetime import timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.domain import IncidentState
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.injector import inject_events
from hwarang.exercise.plan import plan_exercise
from hwarang.exercise.scenario import load_scenario
from hwarang.hub.service import HubService
from tests.unit.exercise.exercise_support import FIGURE_SCENARIO, SCENARIO, scenario_plan


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["exercise", *args])
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_good_files_and_names_lines_of_bad_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SCENARIO, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SCENARIO.replace("acknowledge_within_s: 180", "acknowledge_within_s: soon"), encoding="utf-8"
    )
    code, out, _err = invoke("validate", str(good))
    assert code == 0 and "good.yaml: ok — test exercise: 2 injects (event) in zones 2, 4" in out
    code, out, err = invoke("validate", str(good), str(bad))
    assert code == 2 and "good.yaml: ok" in out
    assert f"{bad}:14:7: injects.0.expected.acknowledge_within_s: 'soon' is not a duration" in err


def test_overlay_prints_the_source_config_for_a_camera(tmp_path: Path) -> None:
    scenario = tmp_path / "figure.yaml"
    scenario.write_text(FIGURE_SCENARIO, encoding="utf-8")
    code, out, err = invoke(
        "overlay", str(scenario), "--camera", "cam-7", "--video", "clip.avi",
        "--stream-start", "2026-08-25T00:20:00+00:00",
    )  # fmt: skip
    assert code == 0, err
    source = yaml.safe_load(out)["source"]
    assert source["type"] == "overlay" and source["base"]["path"] == "clip.avi"
    (figure,) = source["figures"]
    assert (
        figure["start_s"] == 600.0 and figure["label"] == "sejong-drone"
    )  # inject at 30 min, clip from 20 min
    code, _out, err = invoke(
        "overlay",
        str(scenario),
        "--camera",
        "cam-9",
        "--video",
        "c.avi",
        "--stream-start",
        "2026-08-25T00:00:00+00:00",
    )
    assert code == 2 and "no figure inject at camera 'cam-9'" in err


def test_report_and_replay_read_the_hub(tmp_path: Path, hub: HubService, clock: ManualClock) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    plan = scenario_plan()
    hub.ingest.batch(inject_events(plan.injects[0]))
    (incident,) = hub.incidents.recent(include_exercise=True)
    clock.set(plan.injects[0].at + timedelta(seconds=90))
    hub.workflow.transition(incident.id, IncidentState.ACKNOWLEDGED, "op-ongjin")
    url = hub.database.masked_url
    out = tmp_path / "report"
    code, stdout, err = invoke("report", str(scenario), "--database-url", url, "--out", str(out), "--no-pdf")
    assert code == 0, err
    evaluation = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    boat = evaluation["measurement"]["injects"][0]
    assert boat["acknowledged_s"] == 90.0 and boat["detected_s"] == 20.0
    assert (out / "report.ko.html").is_file() and (out / "report.en.html").is_file()
    assert "인천·경기" in stdout
    html = (out / "report.en.html").read_text(encoding="utf-8")
    assert '<td title="boat">boat landing</td>' in html  # the inject's title, its id only on hover
    assert evaluation["slowest"][0]["title"] == "boat landing"

    code, stdout, err = invoke("replay", str(scenario), "--database-url", url, "--speed", "100000")
    assert code == 0, err
    lines = [line for line in stdout.splitlines() if line.startswith("+")]
    assert [line.split()[2] for line in lines] == ["inject", "detected", "state", "inject"]
    assert "op-ongjin new→acknowledged" in lines[2] and stdout.rstrip().endswith("4 steps")
    assert lines[0].split()[3:5] == ["boat", "landing"]  # the title, not the id "boat" alone


def test_bad_options_are_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    code, _out, err = invoke("run", str(scenario), "--speed", "0")
    assert code == 2 and "--speed must be > 0" in err
    code, _out, err = invoke("report", str(scenario), "--start", "tomorrow", "--no-pdf")
    assert code == 2 and "--start 'tomorrow'" in err
    code, _out, err = invoke("simulate", "--lang", "fr", "--out", str(tmp_path / "x"))
    assert code == 2 and "--lang 'fr'" in err


def test_drill_scenario_and_grading(tmp_path: Path, hub: HubService, clock: ManualClock) -> None:
    scenario = tmp_path / "drill.yaml"
    certs = tmp_path / "certs.jsonl"
    code, out, err = invoke(
        "drill-scenario", "--level", "1", "--sigungu", "28110", "--user", "kim", "--out", str(scenario),
        "--start", "2026-08-25T00:00:00+00:00", "--certifications", str(certs),
    )  # fmt: skip
    assert code == 0, err
    plan = plan_exercise(load_scenario(scenario))
    (inject,) = plan.injects
    hub.ingest.batch(inject_events(inject))
    (incident,) = hub.incidents.recent(include_exercise=True)
    clock.set(inject.at + timedelta(seconds=30))
    hub.workflow.transition(incident.id, IncidentState.ACKNOWLEDGED, "kim")
    hub.workflow.tasks.create_task(incident.id, "police-28", "report", inject.at + timedelta(hours=1), "kim")
    url = hub.database.masked_url
    code, out, err = invoke(
        "drill-grade", str(scenario), "--user", "kim", "--level", "1", "--certifications", str(certs),
        "--database-url", url,
    )  # fmt: skip
    assert code == 0, err
    assert "kim: level 1 passed" in out and "certified level 1" in out
    code, _out, err = invoke(
        "drill-scenario", "--level", "3", "--sigungu", "28110", "--user", "kim", "--out", str(scenario),
        "--certifications", str(certs),
    )  # fmt: skip
    assert code == 2 and "kim holds level 1; pass level 2 before level 3" in err


def test_simulate_refuses_an_existing_file_as_out_before_running(tmp_path: Path) -> None:
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me", encoding="utf-8")
    code, out, err = invoke("simulate", "--out", str(taken), "--no-pdf")
    assert code == 2
    assert f"--out {taken}: exists and is not a folder" in err
    assert "Traceback" not in out + err and "simulation:" not in out
    assert taken.read_text(encoding="utf-8") == "keep me"


def test_simulate_names_a_mistyped_profile_key_and_the_allowed_ones(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("profile: {acknowlege: {median_s: 60}}\nseed: -1\n", encoding="utf-8")
    code, out, err = invoke("simulate", "--profile", str(profile), "--out", str(tmp_path / "o"))
    assert code == 2
    assert f"{profile}: 2 simulation setting error(s):" in err
    assert "profile.acknowlege: unknown key; allowed keys here: acknowledge, agency_acknowledge" in err
    assert "seed: Input should be greater than or equal to 0 (got -1)" in err
    assert "errors.pydantic.dev" not in err and "Traceback" not in out + err
