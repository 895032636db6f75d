"""The source plugin registry: one config class per ``type``, gathered in the ``SourceConfig`` union.

Adding a source: write its module (a ``SourcePluginConfig`` subclass with ``type: Literal[...]`` and a
``build`` method) and add its config class to ``SourceConfig`` below.
"""

from collections.abc import Mapping
from typing import Annotated, Any, TypeAlias, get_args

from pydantic import Field, TypeAdapter, ValidationError

from hwarang.edge.errors import SourceError
from hwarang.edge.sources.base import FrameSource, SourcePluginConfig
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.edge.sources.overlay import OverlaySourceConfig
from hwarang.edge.sources.rtsp import RtspSourceConfig
from hwarang.edge.sources.synthetic import SyntheticSourceConfig

SourceConfig: TypeAlias = Annotated[
    FileSourceConfig | SyntheticSourceConfig | RtspSourceConfig | OverlaySourceConfig,
    Field(discriminator="type"),
]
"""Any source's config, told apart by its ``type`` field."""


def _registry() -> dict[str, type[SourcePluginConfig]]:
    union = get_args(SourceConfig)[0]
    registry: dict[str, type[SourcePluginConfig]] = {}
    for config_class in get_args(union):
        (source_type,) = get_args(config_class.model_fields["type"].annotation)
        registry[source_type] = config_class
    return registry


SOURCE_TYPES: dict[str, type[SourcePluginConfig]] = _registry()
"""Config class of each source ``type``."""

_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


def parse_source_config(data: Mapping[str, Any], *, camera_id: str) -> SourceConfig:
    """Validate a source config mapping; ``SourceError`` names the camera and what is wrong."""
    source_type = data.get("type")
    if source_type not in SOURCE_TYPES:
        known = ", ".join(sorted(SOURCE_TYPES))
        raise SourceError(f"camera {camera_id}: unknown source type {source_type!r}; known types: {known}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise SourceError(f"camera {camera_id}: invalid {source_type!r} source config: {exc}") from exc


def build_source(config: SourceConfig | Mapping[str, Any], *, camera_id: str) -> FrameSource:
    """The source a config describes (validated first when given as a mapping); no I/O yet."""
    if isinstance(config, Mapping):
        config = parse_source_config(config, camera_id=camera_id)
    source_type = getattr(config, "type", None)
    if source_type not in SOURCE_TYPES or not isinstance(config, SOURCE_TYPES[source_type]):
        known = ", ".join(sorted(SOURCE_TYPES))
        raise SourceError(f"camera {camera_id}: unknown source type {source_type!r}; known types: {known}")
    return config.build(camera_id=camera_id)
