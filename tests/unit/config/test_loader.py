"""Configuration files: the demo config is valid; bad files give errors naming file, key and value."""

from pathlib import Path

import pytest

from hwarang.config import ConfigError, load_config, parse_config
from hwarang.edge.sources.file import FileSourceConfig

MINIMAL_CAMERA = """
edge:
  centers:
    - id: c1
      name: center
      cameras:
        - id: cam1
          name: gate
          position: {lat: 37.5663, lon: 126.9779}
          source: {type: file, path: /tmp/x.avi}
"""


def test_builtin_demo_config_is_valid() -> None:
    config = load_config(None)
    cameras = [cam for center in config.edge.centers for cam in center.cameras]
    assert len(cameras) >= 3
    assert any(isinstance(cam.source, FileSourceConfig) for cam in cameras)
    assert all(cam.rules for cam in cameras), "every demo camera has at least one rule"


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_syntax_error_gives_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"site\.yaml: invalid YAML at line 3, column \d+"):
        parse_config("edge:\n  centers: [\n", source="site.yaml")


def test_unknown_key_is_named_with_its_path() -> None:
    text = MINIMAL_CAMERA.replace("name: gate", "name: gate\n          colour: red")
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="site.yaml")
    message = str(info.value)
    assert "site.yaml" in message
    assert "edge.centers.0.cameras.0.colour" in message
    assert "unknown key (got 'red'); allowed keys here: " in message
    assert "heading_deg" in message  # a key of a camera, not of the file's top level


def test_wrong_value_is_shown() -> None:
    text = MINIMAL_CAMERA.replace("lat: 37.5663", "lat: 137.5")
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="site.yaml")
    assert "edge.centers.0.cameras.0.position.lat" in str(info.value)
    assert "137.5" in str(info.value)


def test_unknown_source_type_lists_the_known_ones() -> None:
    text = MINIMAL_CAMERA.replace("type: file, path: /tmp/x.avi", "type: webcam")
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="site.yaml")
    message = str(info.value)
    assert "source" in message and "webcam" in message and "file" in message


def test_environment_references_are_expanded() -> None:
    text = MINIMAL_CAMERA.replace("/tmp/x.avi", "'${CLIP:-/default.avi}'")
    default = parse_config(text, source="s", environ={})
    chosen = parse_config(text, source="s", environ={"CLIP": "/chosen.avi"})
    empty = parse_config(text, source="s", environ={"CLIP": ""})
    paths = [cfg.edge.centers[0].cameras[0].source for cfg in (default, chosen, empty)]
    expected = [Path("/default.avi"), Path("/chosen.avi"), Path("/default.avi")]
    assert [getattr(p, "path", None) for p in paths] == expected, "set-but-empty falls back, as in the shell"


def test_missing_environment_variable_without_default_is_an_error() -> None:
    text = MINIMAL_CAMERA.replace("/tmp/x.avi", "'${CLIP}'")
    with pytest.raises(
        ConfigError, match=r"edge\.centers\.0\.cameras\.0\.source\.path: environment variable CLIP"
    ):
        parse_config(text, source="s", environ={})


def test_duplicate_camera_ids_are_refused() -> None:
    camera = MINIMAL_CAMERA.split("cameras:\n", 1)[1]
    with pytest.raises(ConfigError, match="camera id 'cam1' is used more than once"):
        parse_config(MINIMAL_CAMERA + camera, source="s")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got list"):
        parse_config("- a\n- b\n", source="s")


def test_passwords_in_urls_are_masked_in_errors() -> None:
    text = MINIMAL_CAMERA.replace(
        "source: {type: file, path: /tmp/x.avi}",
        "source: {type: rtsp, url: 'rtsp://op:s3cret@127.0.0.1:1/x', bogus: 1}",
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text.replace("lat: 37.5663", "lat: 'rtsp://op:s3cret@h/x'"), source="s")
    assert "s3cret" not in str(info.value)
    assert "bogus" in str(info.value)
