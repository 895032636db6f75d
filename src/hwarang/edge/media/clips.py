"""Event clips: a per-camera ring of encoded H.264 and the MP4 cut around each event.

An H.264 network camera (RTSP, a :class:`PacketSource`) hands over its packets as received: they go
into the ring as they are and are remuxed, never re-encoded. Other cameras' frames are encoded once,
cheaply (libx264 ``ultrafast``, ``zerolatency``, scaled down to ``max_width``, a keyframe every
``gop_s``), into the same kind of ring, which holds ``pre_s + post_s`` and a GOP or more. When an
event fires, the recorder notes its stream time; once the stream has run ``post_s`` past it, the
packets from the keyframe at or before ``event - pre_s`` up to ``event + post_s`` are remuxed, without
re-encoding, into a fast-start MP4 named by its SHA-256. A stream that ends early (the end of
a file, a stopped camera) cuts the pending clips short with what it has.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hwarang.domain import ClipRef
from hwarang.edge.errors import MediaError
from hwarang.edge.frame import Frame

if TYPE_CHECKING:
    from av.video.codeccontext import VideoCodecContext as CodecContext

logger = logging.getLogger(__name__)

_TIME_BASE = Fraction(1, 1000)  # packet timestamps in milliseconds of stream time
_ENCODERS = ("libx264", "libopenh264", "h264")


class ClipConfig(BaseModel):
    """Event clips of one camera: how much video before and after, and how it is encoded."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Keep a ring of encoded video and cut a clip per event.")
    pre_s: float = Field(default=5.0, ge=0.0, le=60.0, description="Seconds of video before the event.")
    post_s: float = Field(default=10.0, ge=0.0, le=120.0, description="Seconds of video after the event.")
    max_width: int = Field(default=640, ge=64, le=3840, description="Frames wider than this are scaled down.")
    crf: int = Field(default=33, ge=0, le=51, description="x264 constant rate factor (higher: smaller).")
    gop_s: float = Field(
        default=0.5, gt=0.0, le=10.0, description="Seconds between keyframes (a clip starts on one)."
    )
    privacy_masks: list[list[tuple[float, float]]] = Field(
        default_factory=list,
        description="Polygons (source pixels) blacked out of every clip frame before encoding, e.g. "
        "windows of homes; costs well under a millisecond a frame (see docs/video.md).",
    )

    @field_validator("privacy_masks")
    @classmethod
    def _polygons(cls, masks: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for i, polygon in enumerate(masks):
            if len(polygon) < 3:
                raise ValueError(f"privacy mask {i} needs at least 3 points, got {len(polygon)}")
        return masks


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One encoded H.264 access unit (Annex B, SPS/PPS in band on keyframes)."""

    data: bytes
    pts_s: float
    wall_time: datetime
    keyframe: bool


PacketSink = Callable[[EncodedPacket, tuple[int, int]], None]


@runtime_checkable
class PacketSource(Protocol):
    """A source that can hand over its H.264 packets as received (with the stream's size)."""

    def set_packet_sink(self, sink: PacketSink | None) -> bool:
        """Send every H.264 packet to ``sink`` from now on; False when the stream is not H.264."""
        ...


@dataclass(frozen=True, slots=True)
class Clip:
    """A cut clip: the MP4 bytes and their reference."""

    data: bytes
    ref: ClipRef


class FrameEncoder:
    """Encodes BGR frames to H.264 packets once, at modest quality (the first encoder available)."""

    def __init__(self, config: ClipConfig, fps: float) -> None:
        self._config = config
        self._fps = fps if fps > 0 else 10.0
        self._codec: CodecContext | None = None
        self._size = (0, 0)
        self._walls: dict[int, datetime] = {}
        self.cpu_s = 0.0
        self.frames = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the encoded video ((0, 0) before the first frame)."""
        return self._size

    def encode(self, frame: Frame) -> list[EncodedPacket]:
        """Encode one frame; returns the packets the encoder released (possibly none)."""
        import av

        started = time.process_time()
        image = self._masked(frame.image)
        if self._codec is None:
            self._codec = self._open(frame.width, frame.height)
        width, height = self._size
        picture = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(width, height, "yuv420p")
        pts = round(frame.pts_s * 1000)
        picture.pts = pts
        picture.time_base = _TIME_BASE
        self._walls[pts] = frame.wall_time
        try:
            packets = self._collect(self._codec.encode(picture))
        except av.FFmpegError as exc:
            raise MediaError(f"H.264 encoding failed at pts {frame.pts_s:.3f} s: {exc}") from exc
        self.cpu_s += time.process_time() - started
        self.frames += 1
        return packets

    def _masked(self, image: Any) -> Any:
        """The image with the privacy masks filled black (a copy; the frame is not changed)."""
        if not self._config.privacy_masks:
            return image
        import cv2
        import numpy as np

        out = image.copy()
        polygons = [
            np.round(np.asarray(p, dtype=np.float64)).astype(np.int32) for p in self._config.privacy_masks
        ]
        cv2.fillPoly(out, polygons, (0, 0, 0))
        return out

    def flush(self) -> list[EncodedPacket]:
        """The packets still inside the encoder (call at the end of the stream)."""
        if self._codec is None:
            return []
        packets = self._collect(self._codec.encode(None))
        self._codec = None
        return packets

    def _open(self, width: int, height: int) -> CodecContext:
        import av

        scale = min(1.0, self._config.max_width / width)
        out_w, out_h = max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)
        self._size = (out_w, out_h)
        last: Exception | None = None
        for name in _ENCODERS:
            try:
                codec: Any = av.CodecContext.create(name, "w")
            except (av.FFmpegError, ValueError) as exc:
                last = exc
                continue
            codec.width, codec.height, codec.pix_fmt = out_w, out_h, "yuv420p"
            codec.time_base = _TIME_BASE
            codec.framerate = Fraction(self._fps).limit_denominator(1001)
            codec.gop_size = max(1, round(self._config.gop_s * self._fps))
            codec.max_b_frames = 0
            if name == "libx264":
                codec.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": str(self._config.crf)}
            try:
                codec.open()
            except av.FFmpegError as exc:
                last = exc
                continue
            opened: CodecContext = codec
            return opened
        raise MediaError(f"no H.264 encoder available for clips (tried {', '.join(_ENCODERS)}): {last}")

    def _collect(self, packets: Any) -> list[EncodedPacket]:
        out: list[EncodedPacket] = []
        for packet in packets:
            pts = int(packet.pts) if packet.pts is not None else 0
            wall = self._walls.pop(pts, None)
            if wall is None:
                continue  # pragma: no cover - every packet answers a picture we sent
            out.append(EncodedPacket(bytes(packet), pts / 1000.0, wall, bool(packet.is_keyframe)))
        return out


class PacketRing:
    """Encoded packets of the last ``keep_s`` seconds, always starting on a keyframe."""

    def __init__(self, keep_s: float) -> None:
        self._keep_s = keep_s
        self._packets: deque[EncodedPacket] = deque()

    def __len__(self) -> int:
        return len(self._packets)

    def append(self, packet: EncodedPacket) -> None:
        """Add a packet; whole GOPs older than ``keep_s`` behind it are dropped."""
        if not self._packets and not packet.keyframe:
            return  # a clip can only start on a keyframe
        self._packets.append(packet)
        horizon = packet.pts_s - self._keep_s
        while True:
            next_key = next((i for i, p in enumerate(self._packets) if i > 0 and p.keyframe), None)
            if next_key is None or self._packets[next_key].pts_s > horizon:
                return
            for _ in range(next_key):
                self._packets.popleft()

    def window(self, start_s: float, end_s: float) -> list[EncodedPacket]:
        """Packets from the last keyframe at or before ``start_s`` (or the first held) to ``end_s``."""
        packets = list(self._packets)
        first = 0
        for i, packet in enumerate(packets):
            if packet.pts_s > start_s + 1e-6:
                break
            if packet.keyframe:
                first = i
        return [p for p in packets[first:] if p.pts_s <= end_s + 1e-6]

    @property
    def newest_s(self) -> float | None:
        """Stream time of the newest packet."""
        return self._packets[-1].pts_s if self._packets else None


def mux_mp4(packets: list[EncodedPacket], fps: float, size: tuple[int, int]) -> Clip:
    """Remux ``packets`` (starting on a keyframe) into a fast-start MP4; raises ``MediaError``."""
    import av

    if not packets or not packets[0].keyframe:
        raise MediaError("a clip needs at least one packet, starting on a keyframe")
    frame_s = 1.0 / fps if fps > 0 else 0.1
    fd, name = tempfile.mkstemp(prefix=".clip-", suffix=".mp4")
    os.close(fd)
    path = Path(name)
    try:
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(10)
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_mux_stream("h264", rate=rate, width=size[0], height=size[1])
            stream.time_base = _TIME_BASE
            origin = round(packets[0].pts_s * 1000)
            for item in packets:
                packet = av.Packet(item.data)
                ts = round(item.pts_s * 1000) - origin
                packet.pts = packet.dts = ts
                packet.duration = round(frame_s * 1000)
                packet.time_base = _TIME_BASE
                packet.is_keyframe = item.keyframe
                packet.stream = stream
                out.mux(packet)
        data = path.read_bytes()
    except av.FFmpegError as exc:
        raise MediaError(f"cannot write an MP4 clip of {len(packets)} packets: {exc}") from exc
    finally:
        path.unlink(missing_ok=True)
    duration = packets[-1].pts_s - packets[0].pts_s + frame_s
    ref = ClipRef(
        sha256=hashlib.sha256(data).hexdigest(),
        start=packets[0].wall_time,
        end=packets[-1].wall_time + timedelta(seconds=frame_s),
        duration_s=round(duration, 3),
        width=size[0],
        height=size[1],
        size=len(data),
    )
    return Clip(data, ref)


@dataclass(slots=True)
class _Request:
    key: object
    at_s: float


OnClip = Callable[[list[object], Clip | None], None]


class ClipRecorder:
    """One camera's ring and pending clip requests; ``on_clip(keys, clip)`` gets each cut clip.

    Requests at the same stream time share one clip (one call with all their keys).

    ``add_frame`` is called for every decoded frame (from one thread); ``request`` from the analytics
    side (any thread). A clip that cannot be cut is reported as ``None`` (the event goes without).
    """

    def __init__(self, camera_id: str, config: ClipConfig, fps: float, on_clip: OnClip) -> None:
        self.camera_id = camera_id
        self._config = config
        self._fps = fps if fps > 0 else 10.0
        self._encoder = FrameEncoder(config, self._fps)
        # A camera's own GOP may be long: keep enough to start on the keyframe before pre_s.
        self._ring = PacketRing(config.pre_s + config.post_s + max(2 * config.gop_s, 10.0))
        self._remux_size: tuple[int, int] | None = None
        self._on_clip = on_clip
        self.live: PacketSink | None = None
        """Also hands every packet here (the camera's live sender), when set."""
        self._lock = threading.Lock()
        self._pending: list[_Request] = []
        self.clips = 0
        self.failures = 0
        self.clip_cpu_s = 0.0

    @property
    def encode_cpu_s(self) -> float:
        """CPU seconds spent encoding frames into the ring."""
        return self._encoder.cpu_s

    @property
    def frames(self) -> int:
        """Frames encoded into the ring."""
        return self._encoder.frames

    def request(self, key: object, at_s: float) -> None:
        """Cut a clip around stream time ``at_s`` once ``post_s`` more has been recorded."""
        with self._lock:
            self._pending.append(_Request(key, at_s))

    def add_frame(self, frame: Frame) -> None:
        """Encode ``frame`` into the ring and cut the clips now complete."""
        live = self.live
        for packet in self._encoder.encode(frame):
            self._ring.append(packet)
            if live is not None:
                live(packet, self._encoder.size)
        self._cut_due(final=False)

    def add_packet(self, packet: EncodedPacket, size: tuple[int, int]) -> None:
        """Take a camera's own H.264 packet (remux path: no encoding) and cut the clips now complete."""
        self._remux_size = size
        self._ring.append(packet)
        if self.live is not None:
            self.live(packet, size)
        self._cut_due(final=False)

    def finish(self) -> None:
        """The stream ended: flush the encoder and cut every pending clip with what there is."""
        for packet in self._encoder.flush():
            self._ring.append(packet)
        self._cut_due(final=True)

    def _cut_due(self, *, final: bool) -> None:
        newest = self._ring.newest_s
        with self._lock:
            post_s = self._config.post_s
            due = [r for r in self._pending if final or (newest is not None and newest >= r.at_s + post_s)]
            self._pending = [r for r in self._pending if r not in due]
        groups: dict[float, list[object]] = {}
        for request in due:
            groups.setdefault(request.at_s, []).append(request.key)
        for at_s, keys in groups.items():
            self._on_clip(keys, self._cut(at_s))

    def _cut(self, at_s: float) -> Clip | None:
        started = time.process_time()
        packets = self._ring.window(at_s - self._config.pre_s, at_s + self._config.post_s)
        if not packets:
            self.failures += 1
            logger.warning("camera %s: no video held for a clip at %.2f s", self.camera_id, at_s)
            return None
        try:
            clip = mux_mp4(packets, self._fps, self._remux_size or self._encoder.size)
        except MediaError as exc:
            self.failures += 1
            logger.warning("camera %s: clip at %.2f s failed: %s", self.camera_id, at_s, exc)
            return None
        self.clips += 1
        self.clip_cpu_s += time.process_time() - started
        return clip
