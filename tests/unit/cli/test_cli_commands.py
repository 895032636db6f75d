"""The ``hwarang`` command line in-process: config, regions, analyze argument errors, version."""

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from hwarang import __version__
from hwarang.cli import app
from hwarang.config import load_config
from hwarang.geo.regions import default_catalog
from hwarang.geo.zones import load_zones

TABLE_ROW = re.compile(r"^[^\w\n]*(\d{1,2})\s*[^\w\s]", re.MULTILINE)


@pytest.fixture(autouse=True)
def _keep_root_log_level() -> Iterator[None]:
    """``analyze`` sets the root logger's level; give other tests theirs back."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def default_yaml(runner: CliRunner) -> str:
    result = runner.invoke(app, ["config", "show-default"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _write_modified(path: Path, default_yaml: str, edit: dict[str, Any]) -> Path:
    """The default config with ``edit`` applied (dotted keys; list indices as numbers)."""
    data = yaml.safe_load(default_yaml)
    for dotted, value in edit.items():
        *parents, last = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_config_check_accepts_show_default_output(
    runner: CliRunner, default_yaml: str, tmp_path: Path
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(default_yaml, encoding="utf-8")

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 0, result.output
    # the demo clip's relative path may be missing from this directory: a warning, not an error
    assert result.stdout.strip().startswith(f"{site}: valid; 2 center(s), 3 camera(s)")


def test_config_check_malformed_yaml_names_file_and_position(runner: CliRunner, tmp_path: Path) -> None:
    site = tmp_path / "broken.yaml"
    site.write_text("edge:\n  centers: [\n    {id: a,\n", encoding="utf-8")

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 2
    assert f"{site}: invalid YAML at line " in result.stderr
    assert re.search(r"line \d+, column \d+", result.stderr)
    assert "valid;" not in result.stdout


def test_config_check_unknown_key_names_file_and_key_path(
    runner: CliRunner, default_yaml: str, tmp_path: Path
) -> None:
    site = _write_modified(
        tmp_path / "unknown.yaml", default_yaml, {"edge.centers.0.cameras.0.colour": "red"}
    )

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 2
    assert f"{site}: 1 configuration error(s):" in result.stderr
    assert "edge.centers.0.cameras.0.colour: unknown key (got 'red'); allowed keys here:" in result.stderr


def test_config_check_wrong_type_names_file_key_path_and_value(
    runner: CliRunner, default_yaml: str, tmp_path: Path
) -> None:
    site = _write_modified(tmp_path / "port.yaml", default_yaml, {"api.port": "eighty"})

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 2
    assert str(site) in result.stderr
    assert re.search(
        r"^\s+api\.port: Input should be a valid integer.*\(got 'eighty'\)$", result.stderr, re.M
    )


def test_config_check_nested_wrong_type(runner: CliRunner, default_yaml: str, tmp_path: Path) -> None:
    site = _write_modified(tmp_path / "fov.yaml", default_yaml, {"edge.centers.1.cameras.1.fov_deg": "wide"})

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 2
    assert "edge.centers.1.cameras.1.fov_deg: Input should be a valid number" in result.stderr


def test_config_check_missing_file_names_the_path(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-site.yaml"

    result = runner.invoke(app, ["config", "check", str(missing)])

    assert result.exit_code == 2
    assert f"{missing}: configuration file not found" in result.stderr


def test_config_check_camera_outside_korea_names_key_path(
    runner: CliRunner, default_yaml: str, tmp_path: Path
) -> None:
    site = _write_modified(
        tmp_path / "sea.yaml",
        default_yaml,
        {"edge.centers.1.cameras.1.position": {"lat": 36.0, "lon": 124.0}},
    )

    result = runner.invoke(app, ["config", "check", str(site)])

    assert result.exit_code == 2
    assert f"{site}: edge.centers.1.cameras.1: camera gos-coast-fence-02: position 36.00000,124.00000" in (
        result.stderr
    )
    assert "valid;" not in result.stdout


@pytest.mark.parametrize("name", ["site[v2].yaml", "[bold]site.yaml"])
def test_config_errors_keep_brackets_in_file_names(runner: CliRunner, tmp_path: Path, name: str) -> None:
    missing = tmp_path / name

    result = runner.invoke(app, ["config", "check", str(missing)])

    assert result.exit_code == 2
    assert f"{missing}: configuration file not found" in result.stderr


def test_analyze_errors_keep_brackets_in_file_names(runner: CliRunner, tmp_path: Path) -> None:
    video = tmp_path / "cam[old].avi"

    result = runner.invoke(app, ["analyze", str(video), "--out", str(tmp_path / "ev.jsonl")])

    assert result.exit_code == 2
    assert f"video file not found: {video}" in result.stderr


def test_config_schema_is_json_with_descriptions(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "schema"])

    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "AppConfig"
    assert schema["additionalProperties"] is False
    models = {"AppConfig": schema, **schema["$defs"]}
    for name in ("HubConfig", "ApiConfig", "EdgeConfig", "CenterConfig", "CameraConfig", "FileSourceConfig"):
        assert name in models
    undescribed = [
        f"{model}.{prop}"
        for model, body in models.items()
        for prop, spec in body.get("properties", {}).items()
        if prop != "schema_version" and not spec.get("description")
    ]
    assert undescribed == []
    hub = models["HubConfig"]["properties"]["data_dir"]
    assert "database" in hub["description"]


def test_regions_lookup_seoul_city_hall(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "lookup", "37.5663", "126.9779"])

    assert result.exit_code == 0, result.output
    assert "서울특별시" in result.stdout
    assert "중구" in result.stdout
    assert "local government 11140" in result.stdout
    assert re.search(r"\bzone 1\b(?!\d)", result.stdout)


def test_regions_lookup_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "lookup", "37.5663", "126.9779", "--json"])

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["sido_code"], found["sigungu_code"], found["zone_id"]) == ("11", "11140", 1)


def test_regions_lookup_at_sea_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "lookup", "36.0", "124.0"])

    assert result.exit_code == 1
    assert "36.0, 124.0 is not inside a Korean administrative region" in result.stderr
    assert result.stdout == ""


def test_regions_lookup_out_of_range_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "lookup", "95", "0"])

    assert result.exit_code == 2
    assert "coordinate out of range" in result.stderr
    assert "lat=95.0" in result.stderr


def test_regions_list_shows_17_sido(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "list"])

    assert result.exit_code == 0, result.output
    codes = TABLE_ROW.findall(result.stdout)
    expected = default_catalog().sidos()
    assert len(expected) == 17
    assert codes == [sido.code for sido in expected]
    assert all(sido.name in result.stdout for sido in expected)


def test_regions_list_sigungu_of_unknown_sido_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "list", "--sido", "99"])

    assert result.exit_code == 2
    assert "99" in result.stderr


def test_regions_zones_shows_11_zones(runner: CliRunner) -> None:
    result = runner.invoke(app, ["regions", "zones"])

    assert result.exit_code == 0, result.output
    assert TABLE_ROW.findall(result.stdout) == [str(n) for n in range(1, 12)]
    assert len(load_zones().zones) == 11
    assert "제주특별자치도" in result.stdout


def test_analyze_missing_video_exits_2_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    video = tmp_path / "absent.avi"
    out = tmp_path / "ev.jsonl"

    result = runner.invoke(app, ["analyze", str(video), "--out", str(out)])

    assert result.exit_code == 2
    assert f"video file not found: {video}" in result.stderr
    assert not out.exists()


def test_analyze_unknown_camera_lists_known_ones(runner: CliRunner, tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    video.write_bytes(b"not decoded: the camera is rejected first")
    out = tmp_path / "ev.jsonl"

    result = runner.invoke(app, ["analyze", str(video), "--out", str(out), "--camera", "nope"])

    assert result.exit_code == 2
    assert "no camera 'nope' in the configuration" in result.stderr
    known = [cam.id for center in load_config(None).edge.centers for cam in center.cameras]
    assert len(known) == 3
    assert f"(known: {', '.join(known)})" in result.stderr
    assert not out.exists()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"hwarang {__version__}"
