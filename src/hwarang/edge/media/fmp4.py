"""Fragmented MP4 for live view: H.264 packets in, ``ftyp+moov`` then one ``moof+mdat`` per GOP out."""

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hwarang.edge.errors import MediaError
from hwarang.edge.media.clips import EncodedPacket

_TIME_BASE = Fraction(1, 1000)
_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"

OnBytes = Callable[[bytes], None]


class _Sink:
    """A write-only file for the muxer that hands each write on."""

    def __init__(self, on_bytes: OnBytes) -> None:
        self._on_bytes = on_bytes
        self.written = 0

    def write(self, data: bytes) -> int:
        if data:
            self.written += len(data)
            self._on_bytes(bytes(data))
        return len(data)

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        return None


class FragmentMuxer:
    """Remuxes one camera's H.264 packets (never re-encoded) into fMP4 bytes as they come.

    The first bytes are the init segment (``ftyp`` + ``moov``); then a fragment per keyframe
    interval. Packets before the first keyframe are skipped. ``close`` ends the stream.
    """

    def __init__(self, fps: float, on_bytes: OnBytes) -> None:
        self._fps = fps if fps > 0 else 10.0
        self._sink = _Sink(on_bytes)
        self._out: Any = None
        self._stream: Any = None
        self._origin_ms: int | None = None

    @property
    def bytes_out(self) -> int:
        """Bytes written so far."""
        return self._sink.written

    def add(self, packet: EncodedPacket, size: tuple[int, int]) -> None:
        """Mux ``packet`` of a ``size`` picture; raises ``MediaError`` when FFmpeg refuses it."""
        import av

        if self._out is None:
            if not packet.keyframe:
                return
            try:
                self._out = av.open(self._sink, "w", format="mp4", options={"movflags": _MOVFLAGS})
                rate = Fraction(self._fps).limit_denominator(1001)
                self._stream = self._out.add_mux_stream("h264", rate=rate, width=size[0], height=size[1])
                self._stream.time_base = _TIME_BASE
            except av.FFmpegError as exc:
                raise MediaError(f"cannot start a live fMP4 stream: {exc}") from exc
            self._origin_ms = round(packet.pts_s * 1000)
        origin = self._origin_ms or 0
        item = av.Packet(packet.data)
        item.pts = item.dts = max(0, round(packet.pts_s * 1000) - origin)
        item.duration = round(1000 / self._fps)
        item.time_base = _TIME_BASE
        item.is_keyframe = packet.keyframe
        item.stream = self._stream
        try:
            self._out.mux(item)
        except av.FFmpegError as exc:
            raise MediaError(f"cannot mux a live packet: {exc}") from exc

    def close(self) -> None:
        """Finish the stream (writes the last fragment)."""
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except Exception:
                return
