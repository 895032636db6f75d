"""Scenario files: the schema, durations, and errors naming file, line, column and field."""

from importlib.resources import files
from pathlib import Path

import pytest

from hwarang.exercise.plan import plan_exercise
from hwarang.exercise.scenario import (
    EventInject,
    FigureInject,
    ScenarioError,
    ThreatType,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from tests.unit.exercise.exercise_support import SCENARIO

SCENARIOS = sorted(Path(str(files("hwarang.exercise") / "scenarios")).glob("*.yaml"))


def problems(text: str, source: str = "bad.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source)
    assert str(info.value).startswith(f"{source}: {len(info.value.problems)} problem(s)")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_packaged_scenarios_are_valid(path: Path) -> None:
    plan = plan_exercise(load_scenario(path))
    assert plan.injects and all(inject.zone_id in plan.zones for inject in plan.injects)


def test_a_scenario_parses_into_typed_injects() -> None:
    scenario = parse_scenario(SCENARIO, "ok.yaml").scenario
    boat, drone = scenario.injects
    assert boat.at == 300.0 and boat.threat is ThreatType.COASTAL_INFILTRATION
    assert isinstance(boat.inject, EventInject) and boat.inject.detect_delay_s == 20.0
    assert boat.expected.agencies[0].label == "military" and boat.expected.agencies[1].label == "cg-28"
    assert drone.expected.acknowledge_within_s == 180.0  # the default
    assert scenario.length_s == 7200.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0),
     ("1h 30m 5s", 5405.0), ("01:30", 90.0), ("1:02:03", 3723.0), ("0.5s", 0.5)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 minutes", "", True, None, "1:2:3:4"])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_field_errors_name_file_line_column_and_field() -> None:
    text = SCENARIO.replace("acknowledge_within_s: 180", "acknowledge_within_s: -5").replace(
        "detect_delay_s: 20}", "detect_delay_s: later}"
    )
    found = problems(text)
    assert found == [
        "bad.yaml:11:47: injects.0.inject.detect_delay_s: 'later' is not a duration; write seconds (90) or "
        "'90s', '5m', '1h30m', '01:30:00' (got 'later')",
        "bad.yaml:14:7: injects.0.expected.acknowledge_within_s: Input should be greater than 0 (got -5)",
    ]


def test_missing_and_unknown_keys_point_at_their_mapping() -> None:
    text = SCENARIO.replace("    title: drone\n", "    titel: drone\n")
    found = problems(text)
    assert "bad.yaml:19:5: injects.1.title: Field required" in found
    assert "bad.yaml:21:5: injects.1.titel: Extra inputs are not permitted (got 'drone')" in found


def test_union_errors_skip_the_tag_and_name_the_field() -> None:
    text = SCENARIO.replace("{type: event, count: 2}", '{type: figure, path: [[0, 1, "x"]]}')
    assert problems(text) == [
        "bad.yaml:24:42: injects.1.inject.path.0.2: Input should be a valid number, unable to parse string "
        "as a number (got 'x')"
    ]
    wrong = problems(SCENARIO.replace("{type: event, count: 2}", "{type: video}"))
    assert len(wrong) == 1 and wrong[0].startswith("bad.yaml:24:5: injects.1.inject:")
    assert "'figure', 'event'" in wrong[0]


def test_model_rules_are_reported_without_pydantic_noise() -> None:
    text = SCENARIO.replace("{kind: police, share_within_s: 600}", "{kind: police, code: police-28}")
    (found,) = problems(text)
    assert found.startswith("bad.yaml:27:11: injects.1.expected.agencies.0: give exactly one of kind or code")
    assert "Value error" not in found


def test_yaml_errors_and_repeated_keys_give_their_line() -> None:
    assert problems("name: x\nzones: [2\ninjects: []\n") == [
        "bad.yaml:3:8: (yaml): invalid YAML: expected ',' or ']', but got ':'"
    ]
    assert problems(SCENARIO + "name: again\n") == ["bad.yaml:28:1: name: repeated key (first at line 1)"]
    assert problems("") == ["bad.yaml:1:1: (top level): expected a mapping, got an empty file"]
    assert problems("- a\n- b\n") == ["bad.yaml:1:1: (top level): expected a mapping, got list"]


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"missing\.yaml:1:1: \(file\): cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_figure_injects_take_pixel_paths() -> None:
    text = SCENARIO.replace(
        "{type: event, count: 2}", "{type: figure, path: [[0, 10, 20], [3, 40, 20]], enters_zone_s: 1}"
    ).replace('{sigungu: "36110"}', '{sigungu: "36110", camera: cam-1}')
    inject = parse_scenario(text, "ok.yaml").scenario.injects[1].inject
    assert isinstance(inject, FigureInject) and inject.path[1] == (3.0, 40.0, 20.0)
    assert inject.size == (40.0, 110.0) and inject.enters_zone_s == 1.0
