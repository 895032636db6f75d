"""Video files decoded with PyAV, paced at their frame rate or as fast as possible, optionally looped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, Field

from hwarang.edge.errors import SourceError
from hwarang.edge.frame import Frame, bgr_converter
from hwarang.edge.sources.base import BaseSource, FrameSource, Pacer, SourcePluginConfig

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0
_MAX_RESYNCS = 8


class FileSourceConfig(SourcePluginConfig):
    """A video file played as a camera."""

    type: Literal["file"] = Field(default="file", description="Source plugin: a video file.")
    path: Path = Field(description="Video file to decode (any container and codec FFmpeg reads).")
    realtime: bool = Field(
        default=True, description="Pace frames at the file's frame rate; else decode flat out."
    )
    speed: float = Field(default=1.0, gt=0.0, description="Pacing multiplier: 2.0 plays twice as fast.")
    loop: bool = Field(default=False, description="Restart at the end; frame index and pts keep increasing.")
    start_time: AwareDatetime | None = Field(
        default=None,
        description="Wall-clock time of the file's first frame: frames are stamped start_time + pts, so "
        "replays give the same event ids. Default: when playback starts (paced) or decode time (flat out).",
    )
    drop_corrupt_frames: bool = Field(
        default=True, description="Skip frames FFmpeg flags as corrupt (they are counted as decode errors)."
    )

    def build(self, *, camera_id: str) -> FrameSource:
        """A ``FileSource`` for this config."""
        return FileSource(self, camera_id=camera_id)


class _Decoded(NamedTuple):
    convert: Callable[[], npt.NDArray[np.uint8]]
    size: tuple[int, int]
    frame_index: int
    pts_s: float


class FileSource(BaseSource):
    """Decodes a video file into BGR frames; survives corrupt packets and counts them."""

    def __init__(self, config: FileSourceConfig, *, camera_id: str) -> None:
        super().__init__(camera_id)
        self._config = config
        self._lock = threading.Lock()
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._iterating = False
        self._next_index = 0
        self._last_pts = -1.0

    @property
    def config(self) -> FileSourceConfig:
        """The config this source was built from."""
        return self._config

    def open(self) -> None:
        """Open the file and its first video stream; raises ``SourceError`` naming the path."""
        with self._lock:
            if self._container is None:
                self._container, self._stream = self._open_container()

    def _open_container(self) -> tuple[InputContainer, VideoStream]:
        try:
            import av
        except ImportError as exc:  # pragma: no cover - av is a core dependency
            raise SourceError(f"source type 'file' needs the 'av' package (PyAV): {exc}") from exc
        path = self._config.path
        if not path.is_file():
            raise SourceError(f"camera {self.camera_id}: video file not found: {path}")
        try:
            container = av.open(str(path), mode="r")
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"camera {self.camera_id}: cannot open {path} as video: {exc}") from exc
        if not container.streams.video:
            container.close()
            raise SourceError(f"camera {self.camera_id}: {path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if fps <= 0:
            logger.warning(
                "camera %s: %s has no frame rate, assuming %s fps", self.camera_id, path, _DEFAULT_FPS
            )
            fps = _DEFAULT_FPS
        self._fps = fps
        self._size = (stream.codec_context.width, stream.codec_context.height)
        logger.info("camera %s: opened %s (%dx%d @ %.3g fps)", self.camera_id, path, *self._size, fps)
        return container, stream

    def frames(self) -> Iterator[Frame]:
        """Yield frames until the end of the file (or forever with ``loop``) or ``stop()``."""
        self.open()
        pacer = Pacer(
            self._stop_event,
            speed=self._config.speed,
            realtime=self._config.realtime,
            start_time=self._config.start_time,
        )
        self._iterating = True
        try:
            while not self.stopped:
                delivered = yield from self._play_once(pacer)
                if not self._config.loop or self.stopped or delivered == 0:
                    break
                self._restart()
        finally:
            self._iterating = False
            self._release()

    def close(self) -> None:
        """Stop and release the file; a running ``frames()`` releases it on its way out."""
        self.stop()
        if not self._iterating:
            self._release()

    def _release(self) -> None:
        with self._lock:
            container, self._container, self._stream = self._container, None, None
        if container is not None:
            container.close()

    def _restart(self) -> None:
        self._release()
        self.open()
        self._stats.reconnected()
        logger.debug("camera %s: looping %s at frame %d", self.camera_id, self._config.path, self._next_index)

    def _play_once(self, pacer: Pacer) -> Generator[Frame, None, int]:
        container, stream = self._container, self._stream
        if container is None or stream is None:
            raise SourceError(f"camera {self.camera_id}: {self._config.path} is closed")
        pts_offset = self._last_pts + 1.0 / self._fps if self._next_index else 0.0
        delivered = 0
        for packet in self._packets(container, stream):
            for video_frame in self._decode(packet):
                decoded = self._to_frame(video_frame, pts_offset)
                if decoded is None:
                    continue
                if not pacer.wait(decoded.pts_s):
                    return delivered
                wall = pacer.wall_time(decoded.pts_s)
                yield Frame.deferred(decoded.convert, decoded.size, decoded.frame_index, decoded.pts_s, wall)
                self._stats.delivered()
                delivered += 1
                if self.stopped:
                    return delivered
        return delivered

    def _packets(self, container: InputContainer, stream: VideoStream) -> Iterator[Packet[VideoStream]]:
        """Demux, and after a demuxer error seek past the last good packet instead of giving up."""
        import av

        last_pts: int | None = None
        resyncs = 0
        while True:
            try:
                for packet in container.demux(stream):
                    if packet.pts is not None:
                        last_pts = packet.pts
                    yield packet
                return
            except av.FFmpegError as exc:
                self._record_error(f"demux error in {self._config.path}: {exc}")
                resyncs += 1
                if last_pts is None or resyncs > _MAX_RESYNCS or self.stopped:
                    return
                try:
                    container.seek(last_pts + 1, backward=False, stream=stream)
                    stream.codec_context.flush_buffers()
                except av.FFmpegError as seek_exc:
                    self._record_error(f"cannot resume {self._config.path} after demux error: {seek_exc}")
                    return

    def _decode(self, packet: Packet[VideoStream]) -> list[VideoFrame]:
        import av

        if packet.is_corrupt:
            self._record_error(f"corrupt packet at pts {packet.pts} in {self._config.path}")
        try:
            return [f for f in packet.decode() if isinstance(f, av.VideoFrame)]
        except av.FFmpegError as exc:
            self._record_error(f"decode error at pts {packet.pts} in {self._config.path}: {exc}")
            return []

    def _to_frame(self, video_frame: VideoFrame, pts_offset: float) -> _Decoded | None:
        """A strictly increasing pts and a deferred BGR conversion; None for a dropped (corrupt) frame."""
        index = self._next_index
        self._next_index += 1
        time_s = video_frame.time
        local_pts = time_s if time_s is not None else index / self._fps
        pts_s = pts_offset + local_pts
        if pts_s <= self._last_pts:
            pts_s = self._last_pts + 1.0 / self._fps
        self._last_pts = pts_s
        if video_frame.is_corrupt:
            self._record_error(f"corrupt frame {index} in {self._config.path}")
            if self._config.drop_corrupt_frames:
                return None
        convert = bgr_converter(video_frame, self._record_error, f"frame {index} of {self._config.path}")
        self._stats.decoded()
        return _Decoded(convert, (video_frame.width, video_frame.height), index, pts_s)

    def _record_error(self, message: str) -> None:
        self._stats.error(message)
        logger.warning("camera %s: %s", self.camera_id, message)
