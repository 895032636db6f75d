"""The source plugins: one config class per ``type``, gathered in the ``SourceConfig`` union.

Adding a source: write its module (a ``SourcePluginConfig`` subclass with ``type: Literal[...]`` and a
``build`` method) and add its config class to ``SourceConfig`` below (``hwarang.plugins``).
"""

from collections.abc import Mapping
from typing import Annotated, Any, TypeAlias

from pydantic import Field

from hwarang.edge.errors import SourceError
from hwarang.edge.sources.base import FrameSource, SourcePluginConfig
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.edge.sources.overlay import OverlaySourceConfig
from hwarang.edge.sources.rtsp import RtspSourceConfig
from hwarang.edge.sources.synthetic import SyntheticSourceConfig
from hwarang.plugins import Registry

SourceConfig: TypeAlias = Annotated[
    FileSourceConfig | SyntheticSourceConfig | RtspSourceConfig | OverlaySourceConfig,
    Field(discriminator="type"),
]
"""Any source's config, told apart by its ``type`` field."""

SOURCES: Registry[SourceConfig] = Registry("source", SourceConfig, error=SourceError)
"""The source plugins, read from ``SourceConfig``."""

SOURCE_TYPES: dict[str, type[SourceConfig]] = SOURCES.classes
"""Config class of each source ``type``."""


def parse_source_config(data: Mapping[str, Any], *, camera_id: str) -> SourceConfig:
    """Validate a source config mapping; ``SourceError`` names the camera and what is wrong."""
    return SOURCES.parse(data, what=f"camera {camera_id}")


def build_source(config: SourcePluginConfig | Mapping[str, Any], *, camera_id: str) -> FrameSource:
    """The source a config describes (validated first when given as a mapping); no I/O yet."""
    if isinstance(config, Mapping):
        config = parse_source_config(config, camera_id=camera_id)
    return SOURCES.check(config, what=f"camera {camera_id}").build(camera_id=camera_id)
