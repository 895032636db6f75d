"""A small real RTSP server on loopback for the integration tests.

FFmpeg (neither PyAV's bundled libraries nor the ``ffmpeg`` program) cannot *serve* RTSP: its
``rtsp_flags listen`` exists only on the demuxer side (it receives a stream a client pushes). So this
module speaks the server side of RTSP itself (OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN,
RTP interleaved over the TCP connection, RFC 2326 section 10.12) and lets PyAV do the media work: the
clip is decoded, re-encoded to H.264 (libx264, SPS/PPS in band, one key frame a second) and packetised
by FFmpeg's own ``rtp`` muxer (RFC 6184), whose output is written packet by packet into the RTSP
connection. Frames are sent at the clip's frame rate, looping forever.

The server runs in a subprocess (``RtspServerProcess``) so that a test can kill it for real (the
client sees its TCP connection reset) and start it again on the same port.

Run directly: ``python rtsp_support.py --video VIDEO --port PORT [--path /cam]``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from types import TracebackType

_RTP_CHANNEL = 0
_RTCP_CHANNEL = 1
_SESSION_ID = "4857345"
_READY = "READY"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RtspServerProcess:
    """The RTSP server in a subprocess: ``start()``, ``kill()``, ``start()`` again on the same port."""

    def __init__(self, video: Path, *, port: int | None = None, path: str = "/cam") -> None:
        self.video = video
        self.port = port if port is not None else free_port()
        self.path = path
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """``rtsp://127.0.0.1:PORT/cam``."""
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the server and wait (bounded) until it listens."""
        if self.running:
            return
        command = [sys.executable, __file__, "--video", str(self.video), "--port", str(self.port)]
        command += ["--path", self.path]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._process = process
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _, err = process.communicate(timeout=5)
                raise RuntimeError(f"RTSP test server exited with {process.returncode}: {err[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"RTSP test server did not listen on port {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): its clients' connections drop."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=10)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but no byte flows."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo ``pause()``."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)

    def __enter__(self) -> RtspServerProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self.resume()
        self.kill()


# --- the server side (runs in the subprocess) -------------------------------------------------------


class _Connection:
    """One RTSP client: answers requests and, after PLAY, streams the clip as interleaved RTP."""

    def __init__(self, sock: socket.socket, video: Path, path: str) -> None:
        self._sock = sock
        self._video = video
        self._path = path
        self._send_lock = threading.Lock()
        self._closed = threading.Event()
        self._streamer: threading.Thread | None = None

    def serve(self) -> None:
        """Answer requests until the client leaves."""
        buffer = b""
        try:
            while not self._closed.is_set():
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                buffer = self._handle_buffer(buffer)
        except OSError:
            pass
        finally:
            self._closed.set()
            with contextlib.suppress(OSError):
                self._sock.close()

    def _handle_buffer(self, buffer: bytes) -> bytes:
        while buffer:
            if buffer[:1] == b"$":  # interleaved RTCP from the client: skip it
                if len(buffer) < 4:
                    return buffer
                size = int.from_bytes(buffer[2:4], "big")
                if len(buffer) < 4 + size:
                    return buffer
                buffer = buffer[4 + size :]
                continue
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return buffer
            head = buffer[:end].decode("utf-8", "replace").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
            length = int(headers.get("content-length", "0"))
            if len(buffer) < end + 4 + length:
                return buffer
            buffer = buffer[end + 4 + length :]
            self._answer(head[0], headers)
        return buffer

    def _answer(self, request_line: str, headers: dict[str, str]) -> None:
        method, _, rest = request_line.partition(" ")
        url = rest.rsplit(" ", 1)[0]
        cseq = headers.get("cseq", "0")
        if method == "OPTIONS":
            self._reply(cseq, ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"])
        elif method == "DESCRIBE":
            if not url.rstrip("/").endswith(self._path):
                self._reply(cseq, [], status="404 Not Found")
                return
            sdp = (
                b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hwarang test camera\r\nc=IN IP4 0.0.0.0\r\n"
                b"t=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                b"a=fmtp:96 packetization-mode=1\r\na=control:track0\r\n"
            )
            extra = [f"Content-Base: {url.rstrip('/')}/", "Content-Type: application/sdp"]
            self._reply(cseq, extra, body=sdp)
        elif method == "SETUP":
            if "interleaved" not in headers.get("transport", ""):
                self._reply(cseq, [], status="461 Unsupported Transport")
                return
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
            self._reply(cseq, [f"Transport: {transport}", f"Session: {_SESSION_ID};timeout=60"])
        elif method == "PLAY":
            self._reply(cseq, [f"Session: {_SESSION_ID}", "Range: npt=0.000-"])
            if self._streamer is None:
                self._streamer = threading.Thread(target=self._stream, daemon=True)
                self._streamer.start()
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self._reply(cseq, [f"Session: {_SESSION_ID}"])
        elif method == "TEARDOWN":
            self._reply(cseq, [f"Session: {_SESSION_ID}"])
            self._closed.set()
        else:
            self._reply(cseq, [], status="405 Method Not Allowed")

    def _reply(self, cseq: str, headers: list[str], *, status: str = "200 OK", body: bytes = b"") -> None:
        lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", *headers, f"Content-Length: {len(body)}"]
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            self._sock.sendall(data)

    def _send_rtp(self, packet: bytes) -> None:
        channel = _RTCP_CHANNEL if 200 <= packet[1] <= 204 else _RTP_CHANNEL
        self._send(b"$" + bytes([channel]) + len(packet).to_bytes(2, "big") + packet)

    def _stream(self) -> None:
        try:
            _stream_clip(self._video, self._send_rtp, self._closed)
        except Exception:  # the client left (PyAV wraps the socket error): end this stream quietly
            pass
        finally:
            self._closed.set()
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)


class _PacketWriter:
    """A write-only file for PyAV: FFmpeg's rtp muxer flushes once per RTP packet."""

    def __init__(self, send: object) -> None:
        self._send = send

    def write(self, data: bytes) -> int:
        self._send(bytes(data))  # type: ignore[operator]
        return len(data)

    def flush(self) -> None:
        return None


def _stream_clip(video: Path, send_packet: object, closed: threading.Event) -> None:
    """Encode the clip to H.264 and send it as RTP, paced at its frame rate, looping until closed."""
    import av

    with av.open(str(video)) as probe:
        stream = probe.streams.video[0]
        fps = float(stream.average_rate or 10)
        width, height = stream.codec_context.width, stream.codec_context.height
    writer = _PacketWriter(send_packet)
    options = {"packetsize": "1400", "rtpflags": "skip_rtcp"}
    with av.open(writer, mode="w", format="rtp", options=options) as out:
        rate = max(1, round(fps))
        encoder = out.add_stream("libx264", rate=rate)
        encoder.time_base = Fraction(1, rate)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.codec_context.gop_size = rate
        encoder.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency"}
        start = time.monotonic()
        index = 0
        while not closed.is_set():
            with av.open(str(video)) as source:
                for frame in source.decode(video=0):
                    if closed.is_set():
                        return
                    delay = start + index / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    out_frame = frame.reformat(format="yuv420p")
                    out_frame.pts = index
                    out_frame.time_base = Fraction(1, rate)
                    for packet in encoder.encode(out_frame):
                        out.mux(packet)
                    index += 1


def main() -> None:
    """Serve ``--video`` at ``rtsp://127.0.0.1:--port--path`` until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/cam")
    args = parser.parse_args()
    server = socket.create_server(("127.0.0.1", args.port), backlog=16)
    print(_READY, flush=True)
    for _ in itertools.count():
        sock, _ = server.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = _Connection(sock, args.video, args.path)
        threading.Thread(target=connection.serve, daemon=True).start()


if __name__ == "__main__":
    main()
