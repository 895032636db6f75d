"""The frames of an evaluation clip: every decoded frame, on the clip's own stream time."""

from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

from hwarang.edge.frame import Frame
from hwarang.edge.sources import build_source
from hwarang.edge.sources.file import FileSourceConfig

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def clip_frames(
    video: Path, *, camera_id: str, max_frames: int | None = None
) -> Generator[tuple[Frame, float], None, None]:
    """Yield ``(frame, source fps)`` for each frame of ``video`` (the first ``max_frames`` when given),
    as fast as it decodes; the source is closed when the iteration ends or is closed."""
    source = build_source(
        FileSourceConfig(type="file", path=video, realtime=False, start_time=_EPOCH), camera_id=camera_id
    )
    try:
        for frame in source.frames():
            if max_frames is not None and frame.index >= max_frames:
                return
            yield frame, source.fps
    finally:
        source.close()
