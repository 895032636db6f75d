"""Running one camera's pipeline over a video file as fast as possible (``hwarang analyze``)."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hwarang.domain import Camera, EventMessage
from hwarang.edge.camera_setup import build_analytics
from hwarang.edge.config import CameraConfig
from hwarang.edge.media.clips import Clip, ClipRecorder
from hwarang.edge.sources import build_source
from hwarang.edge.sources.file import FileSourceConfig


@dataclass(frozen=True, slots=True)
class AnalyzeResult:
    """What an offline run did and how fast."""

    frames: int
    events: int
    seconds: float
    decode_errors: int
    width: int
    height: int
    clips: int = 0
    clip_encode_cpu_s: float = 0.0
    clip_cut_cpu_s: float = 0.0
    first_error: str | None = None
    """The first decode error (None when the file decoded cleanly)."""

    @property
    def fps(self) -> float:
        """Frames per second over the whole run (decode + analytics)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def analyze_file(
    camera: Camera,
    config: CameraConfig,
    path: Path,
    on_event: Callable[[EventMessage], None],
    on_frame: Callable[[int], None] | None = None,
    *,
    start_time: datetime | None = None,
    on_clip: Callable[[Clip], object] | None = None,
) -> AnalyzeResult:
    """Decode ``path`` without pacing, run the camera's analytics on every frame, report each event.

    Frames are stamped ``start_time + pts`` (default: the file's modification time), so analysing the
    same file twice yields the same event ids. With ``on_clip`` and the camera's clips enabled, every
    frame is encoded into a clip ring and each event is reported once its clip is cut (``on_clip``
    first, then the event carrying the clip's reference).
    """
    if start_time is None:
        start_time = file_start_time(path)
    config_ = FileSourceConfig(type="file", path=path, realtime=False, start_time=start_time)
    source = build_source(config_, camera_id=camera.id)
    frames = 0
    size = (0, 0)
    analytics = None
    recorder: ClipRecorder | None = None
    counted = [0]

    def deliver(message: EventMessage) -> None:
        on_event(message)
        counted[0] += 1

    def clip_done(keys: list[object], clip: Clip | None) -> None:
        if clip is not None and on_clip is not None:
            on_clip(clip)
        for key in keys:
            assert isinstance(key, EventMessage)  # the recorder hands back what was requested
            if clip is None:
                deliver(key)
            else:
                deliver(key.model_copy(update={"event": key.event.model_copy(update={"clip": clip.ref})}))

    start = time.perf_counter()
    try:
        for frame in source.frames():
            if analytics is None:
                size = (frame.width, frame.height)
                analytics = build_analytics(camera, config, source.fps, size)
                if on_clip is not None and config.clips.enabled:
                    recorder = ClipRecorder(camera.id, config.clips, source.fps, clip_done)
            messages = analytics.process(frame)
            if recorder is not None:
                for message in messages:
                    recorder.request(message, frame.pts_s)
                recorder.add_frame(frame)
            else:
                for message in messages:
                    deliver(message)
            frames += 1
            if on_frame is not None:
                on_frame(frames)
        if recorder is not None:
            recorder.finish()
    finally:
        source.close()
    seconds = time.perf_counter() - start
    stats = source.stats
    return AnalyzeResult(
        frames,
        counted[0],
        seconds,
        stats.decode_errors,
        size[0],
        size[1],
        first_error=stats.first_error,
        clips=recorder.clips if recorder is not None else 0,
        clip_encode_cpu_s=recorder.encode_cpu_s if recorder is not None else 0.0,
        clip_cut_cpu_s=recorder.clip_cpu_s if recorder is not None else 0.0,
    )


def file_start_time(path: Path) -> datetime:
    """The file's modification time (UTC), a stable stand-in for when a recording started."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def count_frames(path: Path) -> int | None:
    """The container's frame count, when it records one (for progress bars)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return int(stream.frames) or None
    except (av.error.FFmpegError, IndexError, OSError):
        return None


def damage_report(result: AnalyzeResult, expected_frames: int | None, path: Path) -> str | None:
    """Why ``path`` is truncated or corrupt, saying where; None when it decoded completely and cleanly.

    ``expected_frames`` is the count the container records (None when it records none): fewer
    decoded frames means the file ends early (truncated).
    """
    short = expected_frames is not None and result.frames < expected_frames
    if not short and result.decode_errors == 0:
        return None
    kind = "truncated" if short else "corrupt"
    of = f" of {expected_frames}" if expected_frames is not None else ""
    where = f"{result.frames}{of} frames decoded"
    errors = f"{result.decode_errors} decode error(s)" if result.decode_errors else "no decode error"
    first = f"; first: {result.first_error}" if result.first_error else ""
    stopped = f"; it stops after frame {result.frames}" if short else ""
    return f"{path} is {kind}: {where}, {errors}{first}{stopped}"
