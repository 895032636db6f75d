"""Network cameras: RTSP and HTTP(S) (MJPEG, HLS) streams decoded with PyAV, reconnecting by themselves.

``RtspSource.frames()`` is one continuous iterator for the camera worker: when the stream fails, stalls
(read timeout) or ends, the source reconnects with exponential backoff inside the iterator, counts the
reconnect, records the outage (start and end wall time) and continues with increasing frame indices and
presentation times (the gap is included, so stream time stays close to real time). Nothing blocks
forever: opening and every read are bounded by timeouts, and ``stop()`` ends the iterator within at most
one read timeout (at once while waiting to reconnect). Credentials in URLs are masked in every log line,
error and health record.

An H.264 stream also hands its packets, as received, to a packet sink (``set_packet_sink``): the
camera's clip ring remuxes them into event clips without re-encoding.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from hwarang.edge.errors import SourceError
from hwarang.edge.frame import Frame, bgr_converter
from hwarang.edge.media.clips import EncodedPacket, PacketSink
from hwarang.edge.sources.base import BaseSource, FrameSource, SourcePluginConfig
from hwarang.edge.sources.link import LinkRecorder, LinkStats

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

_SCHEMES = ("rtsp", "rtsps", "http", "https")
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@", re.IGNORECASE)
_DEFAULT_FPS = 25.0


def mask_credentials(text: str) -> str:
    """Replace the password of every URL in ``text``: ``rtsp://user:secret@host`` -> ``rtsp://user:***@host``."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


class RtspSourceConfig(SourcePluginConfig):
    """A network camera: ``rtsp://``/``rtsps://`` or an ``http(s)://`` MJPEG or HLS stream."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: Literal["rtsp"] = Field(
        default="rtsp", description="Source plugin: a network stream (rtsp, rtsps, http or https URL)."
    )
    url: str = Field(
        description="Stream URL, e.g. rtsp://user:pass@10.0.0.5:554/stream1 or http://host/video.mjpg; "
        "the password is masked in logs, errors and health."
    )
    username: str | None = Field(
        default=None, description="User name, when the credentials are not written into the URL."
    )
    password: SecretStr | None = Field(
        default=None,
        description="Password, kept out of logs, errors and config dumps (write ${VAR} in the site file).",
    )
    transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="RTSP lower transport: tcp (interleaved; robust through firewalls) or udp."
    )
    open_timeout_s: float = Field(
        default=10.0,
        gt=0.0,
        le=300.0,
        description="Longest wait for each opening step (connect and describe, then probing the stream).",
    )
    read_timeout_s: float = Field(
        default=5.0,
        gt=0.0,
        le=300.0,
        description="Longest wait for the next packet before the stream counts as lost and is reopened.",
    )
    reconnect_initial_s: float = Field(
        default=0.5, gt=0.0, description="Wait before the second reconnect attempt; doubles on each failure."
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0.0, description="Longest wait between reconnect attempts."
    )
    drop_corrupt_frames: bool = Field(
        default=True, description="Skip frames FFmpeg flags as corrupt (counted as decode errors)."
    )
    options: dict[str, str] = Field(
        default_factory=dict,
        description="Extra FFmpeg demuxer/protocol options, e.g. {fflags: nobuffer}; they override the "
        "options derived from the fields above.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
            raise ValueError(
                f"expected an {', '.join(_SCHEMES)} URL with a host, got {mask_credentials(url)!r}"
            )
        return url

    @model_validator(mode="after")
    def _check_backoff(self) -> RtspSourceConfig:
        if (self.username is not None or self.password is not None) and "@" in urlsplit(self.url).netloc:
            raise ValueError("give the credentials either in the URL or as username/password, not both")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                f"reconnect_max_s ({self.reconnect_max_s}) must be >= reconnect_initial_s "
                f"({self.reconnect_initial_s})"
            )
        return self

    @property
    def masked_url(self) -> str:
        """The stream URL with its password replaced by ``***``."""
        return mask_credentials(self.stream_url())

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, (self.masked_url if name == "url" else value)

    def stream_url(self) -> str:
        """The URL FFmpeg opens: ``url`` with ``username``/``password`` inserted when they are given."""
        if self.username is None and self.password is None:
            return self.url
        parts = urlsplit(self.url)
        userinfo = quote(self.username or "", safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password.get_secret_value(), safe="")
        return parts._replace(netloc=f"{userinfo}@{parts.netloc}").geturl()

    def ffmpeg_options(self) -> dict[str, str]:
        """The options handed to FFmpeg when opening the stream."""
        options = {"timeout": str(round(self.read_timeout_s * 1_000_000))}
        if urlsplit(self.url).scheme.lower() in ("rtsp", "rtsps"):
            options["rtsp_transport"] = self.transport
        return options | self.options

    def build(self, *, camera_id: str) -> FrameSource:
        """An ``RtspSource`` for this config."""
        return RtspSource(self, camera_id=camera_id)


class RtspSource(BaseSource):
    """Decodes a network stream into BGR frames and keeps it alive across failures."""

    def __init__(self, config: RtspSourceConfig, *, camera_id: str) -> None:
        super().__init__(camera_id)
        self._config = config
        self._link = LinkRecorder()
        self._stats = self._link
        self._lock = threading.Lock()
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._iterating = False
        self._sessions = 0
        self._next_index = 0
        self._last_pts = -1.0
        self._last_frame_mono: float | None = None
        self._last_frame_wall: datetime | None = None
        self._session_origin: float | None = None
        self._session_offset = 0.0
        self._packet_sink: PacketSink | None = None

    def set_packet_sink(self, sink: PacketSink | None) -> bool:
        """Hand every H.264 packet (Annex B, SPS/PPS before each keyframe) to ``sink`` from now on."""
        self._packet_sink = sink
        return True

    @property
    def config(self) -> RtspSourceConfig:
        """The config this source was built from."""
        return self._config

    @property
    def link(self) -> LinkStats:
        """Connection state, outages and the last connection error."""
        return self._link.link()

    def open(self) -> None:
        """Connect (idempotent); ``SourceError`` with the masked URL when the stream cannot be opened."""
        with self._lock:
            if self._container is not None:
                return
            try:
                self._container, self._stream = self._connect()
            except SourceError as exc:
                self._link.attempt(str(exc))
                raise
            self._link.attempt(None)
            if self._sessions:
                self._stats.reconnected()
            self._sessions += 1

    def _connect(self) -> tuple[InputContainer, VideoStream]:
        try:
            import av
        except ImportError as exc:  # pragma: no cover - av is a core dependency
            raise SourceError(f"source type 'rtsp' needs the 'av' package (PyAV): {exc}") from exc
        config = self._config
        where = f"camera {self.camera_id}: {config.masked_url}"
        timeouts = (config.open_timeout_s, config.read_timeout_s)
        started = time.monotonic()
        try:
            url, options = config.stream_url(), config.ffmpeg_options()
            container = av.open(url, mode="r", options=options, timeout=timeouts)
        except (av.FFmpegError, OSError) as exc:
            # ``from None``: the FFmpeg error carries the unmasked URL
            waited = time.monotonic() - started
            reason = self._describe(exc, waited, config.open_timeout_s)
            raise SourceError(f"{where}: cannot open stream: {reason}") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{where}: the stream has no video track")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate and 0 < float(rate) <= 240 else 0.0
        if fps <= 0 and self._fps <= 0:
            logger.warning(
                "camera %s: %s reports no frame rate, assuming %s fps",
                self.camera_id,
                config.masked_url,
                _DEFAULT_FPS,
            )
        self._fps = fps or self._fps or _DEFAULT_FPS
        self._size = (stream.codec_context.width, stream.codec_context.height)
        logger.info(
            "camera %s: connected to %s (%s %dx%d @ %.3g fps)",
            self.camera_id,
            config.masked_url,
            stream.codec_context.name,
            *self._size,
            self._fps,
        )
        return container, stream

    def frames(self) -> Iterator[Frame]:
        """Yield frames until ``stop()``, reconnecting with backoff whenever the stream fails."""
        config = self._config
        delay = config.reconnect_initial_s
        self._iterating = True
        try:
            while not self.stopped:
                try:
                    self.open()
                except SourceError as exc:
                    logger.warning("%s; retrying in %.1f s", exc, delay)
                    if self._stop_event.wait(delay):
                        break
                    delay = min(delay * 2.0, config.reconnect_max_s)
                    continue
                delivered = yield from self._read_session()
                self._release()
                if delivered:
                    delay = config.reconnect_initial_s
                elif not self.stopped:
                    if self._stop_event.wait(delay):
                        break
                    delay = min(delay * 2.0, config.reconnect_max_s)
        finally:
            self._iterating = False
            self._release()
            self._link.disconnected()

    def close(self) -> None:
        """Stop and disconnect; a running ``frames()`` disconnects on its way out."""
        self.stop()
        if not self._iterating:
            self._release()

    def _release(self) -> None:
        with self._lock:
            container, self._container, self._stream = self._container, None, None
            self._session_origin = None
        if container is not None:
            try:
                container.close()
            except Exception as exc:  # closing a dead connection may fail; it is gone either way
                logger.debug("camera %s: closing the stream failed: %s", self.camera_id, self._mask(exc))

    def _read_session(self) -> Generator[Frame, None, int]:
        """Frames of one connection; records the outage when it ends for any reason but ``stop()``."""
        import av

        container, stream = self._container, self._stream
        if container is None or stream is None:
            return 0
        delivered = 0
        last_packet = time.monotonic()
        try:
            for packet in container.demux(stream):
                last_packet = time.monotonic()
                frames = [self._to_frame(video_frame) for video_frame in self._decode(packet)]
                self._tap(packet, stream)  # before its frames: the clip ring takes packets, not frames
                for frame in frames:
                    if frame is None:
                        continue
                    yield frame
                    self._stats.delivered()
                    delivered += 1
                    if self.stopped:
                        return delivered
                if self.stopped:
                    return delivered
            error = "the server closed the connection or ended the stream"
        except (av.FFmpegError, OSError) as exc:
            waited = time.monotonic() - last_packet
            error = f"stream lost: {self._describe(exc, waited, self._config.read_timeout_s)}"
        if not self.stopped:
            message = f"camera {self.camera_id}: {self._config.masked_url}: {error}"
            self._link.lost(message, since=self._last_frame_wall)
            logger.warning("camera %s: %s: %s; reconnecting", self.camera_id, self._config.masked_url, error)
        return delivered

    def _tap(self, packet: Packet[VideoStream], stream: VideoStream) -> None:
        """The packet as received, on the frames' timeline, to the packet sink (H.264 only)."""
        sink = self._packet_sink
        if (
            sink is None
            or stream.codec_context.name != "h264"
            or packet.pts is None
            or packet.time_base is None
        ):
            return
        if self._session_origin is None or packet.size == 0:
            return
        data = bytes(packet)
        keyframe = bool(packet.is_keyframe)
        extradata = stream.codec_context.extradata
        if (
            keyframe
            and extradata
            and extradata.startswith(b"\x00\x00")
            and b"\x00\x00\x01\x67" not in data[:256]
        ):
            data = extradata + data  # parameter sets from the SDP: every clip must start decodable
        pts_s = self._session_offset + float(packet.pts * packet.time_base) - self._session_origin
        sink(EncodedPacket(data, pts_s, datetime.now(UTC), keyframe), self._size)

    def _decode(self, packet: Packet[VideoStream]) -> list[VideoFrame]:
        import av

        try:
            return [f for f in packet.decode() if isinstance(f, av.VideoFrame)]
        except av.FFmpegError as exc:
            self._decode_error(f"decode error at pts {packet.pts}: {self._mask(exc)}")
            return []

    def _to_frame(self, video_frame: VideoFrame) -> Frame | None:
        """A BGR frame with an index and pts that keep increasing across reconnects; None when dropped."""
        now = time.monotonic()
        step = 1.0 / self._fps
        time_s = video_frame.time
        if self._session_origin is None:
            gap = now - self._last_frame_mono if self._last_frame_mono is not None else 0.0
            self._session_offset = self._last_pts + max(gap, step) if self._last_pts >= 0 else 0.0
            self._session_origin = time_s if time_s is not None else 0.0
            pts_s = self._session_offset
        elif time_s is not None:
            pts_s = self._session_offset + time_s - self._session_origin
        else:
            pts_s = self._last_pts + step
        if pts_s <= self._last_pts:
            pts_s = self._last_pts + step
        index = self._next_index
        self._next_index += 1
        self._last_pts = pts_s
        self._last_frame_mono = now
        if video_frame.is_corrupt:
            self._decode_error(f"corrupt frame {index}")
            if self._config.drop_corrupt_frames:
                return None
        convert = bgr_converter(video_frame, self._decode_error, f"frame {index}")
        wall = datetime.now(UTC)
        self._last_frame_wall = wall
        self._stats.decoded()
        outage = self._link.frame_arrived()
        if outage is not None:
            logger.info(
                "camera %s: %s is back after %.1f s without frames",
                self.camera_id,
                self._config.masked_url,
                outage.duration_s,
            )
        return Frame.deferred(convert, (video_frame.width, video_frame.height), index, pts_s, wall)

    def _decode_error(self, message: str) -> None:
        self._stats.error(message)
        logger.debug("camera %s: %s", self.camera_id, message)

    def _describe(self, exc: BaseException, waited_s: float, limit_s: float) -> str:
        """The masked FFmpeg error; named a timeout when it came after waiting for about the limit
        (FFmpeg reports an interrupted RTSP exchange as "invalid data")."""
        import av

        if isinstance(exc, av.ExitError | TimeoutError) or waited_s >= 0.95 * limit_s:
            return f"no answer within {limit_s:g} s (timeout; FFmpeg: {self._mask(exc)})"
        return self._mask(exc)

    def _mask(self, value: object) -> str:
        text = str(value).replace(self._config.stream_url(), self._config.masked_url)
        password = self._config.password
        if password is not None and len(password.get_secret_value()) >= 3:
            for form in (password.get_secret_value(), quote(password.get_secret_value(), safe="")):
                text = text.replace(form, "***")
        return mask_credentials(text)
