"""Camera sources: a ``FrameSource`` protocol and plugins keyed by ``type`` (file, synthetic)."""

from hwarang.edge.sources.base import FrameSource, SourceStats
from hwarang.edge.sources.file import FileSource, FileSourceConfig
from hwarang.edge.sources.registry import SOURCE_TYPES, SourceConfig, build_source, parse_source_config
from hwarang.edge.sources.scene import SyntheticScene
from hwarang.edge.sources.synthetic import SyntheticSource, SyntheticSourceConfig

__all__ = [
    "SOURCE_TYPES",
    "FileSource",
    "FileSourceConfig",
    "FrameSource",
    "SourceConfig",
    "SourceStats",
    "SyntheticScene",
    "SyntheticSource",
    "SyntheticSourceConfig",
    "build_source",
    "parse_source_config",
]
