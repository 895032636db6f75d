"""The source registry: configs told apart by ``type``, built into sources."""

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from hwarang.edge.errors import SourceError
from hwarang.edge.sources import (
    SOURCE_TYPES,
    FileSource,
    FileSourceConfig,
    SourceConfig,
    SyntheticSource,
    SyntheticSourceConfig,
    build_source,
    parse_source_config,
)
from hwarang.edge.sources.overlay import OverlaySourceConfig
from hwarang.edge.sources.rtsp import RtspSourceConfig


def test_registry_lists_every_plugin() -> None:
    expected = {
        "file": FileSourceConfig,
        "synthetic": SyntheticSourceConfig,
        "rtsp": RtspSourceConfig,
        "overlay": OverlaySourceConfig,
    }
    assert expected == SOURCE_TYPES


def test_build_from_a_dict_validated_by_type_adapter(tmp_path: Path) -> None:
    adapter: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
    config = adapter.validate_python({"type": "file", "path": str(tmp_path / "a.avi"), "speed": 2})
    assert isinstance(config, FileSourceConfig)
    source = build_source(config, camera_id="cam-1")
    assert isinstance(source, FileSource)
    assert source.camera_id == "cam-1"
    assert source.config.speed == 2.0


def test_build_from_a_plain_mapping() -> None:
    source = build_source({"type": "synthetic", "seed": 4, "width": 320, "height": 180}, camera_id="cam-2")
    assert isinstance(source, SyntheticSource)
    assert source.size == (320, 180)


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(SourceError) as info:
        build_source({"type": "onvif", "url": "http://x"}, camera_id="cam-3")
    message = str(info.value)
    assert "'onvif'" in message and "file, overlay, rtsp, synthetic" in message and "cam-3" in message


def test_missing_type_is_reported() -> None:
    with pytest.raises(SourceError, match="unknown source type None"):
        parse_source_config({"path": "a.avi"}, camera_id="cam-3")


def test_invalid_fields_are_reported_with_the_camera() -> None:
    with pytest.raises(SourceError, match=r"(?s)cam-4: invalid 'file' source config.*speed"):
        build_source({"type": "file", "path": "a.avi", "speed": 0}, camera_id="cam-4")
    with pytest.raises(SourceError, match="colour"):
        build_source({"type": "synthetic", "colour": "red"}, camera_id="cam-4")


def test_type_adapter_rejects_an_unknown_tag() -> None:
    with pytest.raises(ValidationError, match="'file', 'synthetic'"):
        TypeAdapter(SourceConfig).validate_python({"type": "webcam"})


def test_every_config_field_is_described() -> None:
    for config_class in SOURCE_TYPES.values():
        undescribed = [name for name, field in config_class.model_fields.items() if not field.description]
        assert undescribed == [], f"{config_class.__name__} fields without description: {undescribed}"
