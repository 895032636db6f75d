"""RtspSource against a real RTSP server on loopback: frames, a 10 s server outage, timeouts, HTTP MJPEG."""

import socket
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from hwarang.edge.errors import SourceError
from hwarang.edge.sources import build_source
from hwarang.edge.sources.rtsp import RtspSource, RtspSourceConfig
from tests.integration.edge.rtsp_support import RtspServerProcess, free_port

pytestmark = pytest.mark.integration

OUTAGE_S = 10.0


@dataclass
class Received:
    """What a consumer thread saw: (index, pts_s, monotonic arrival) per frame, and the last image."""

    frames: list[tuple[int, float, float]] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    image_std: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.frames)


def _rtsp(url: str, **kwargs: object) -> RtspSource:
    source = build_source({"type": "rtsp", "url": url, **kwargs}, camera_id="cam-rtsp")
    if not isinstance(source, RtspSource):
        raise TypeError(f"expected an RtspSource, got {type(source).__name__}")
    return source


def _consume(source: RtspSource, received: Received) -> threading.Thread:
    def run() -> None:
        for frame in source.frames():
            with received.lock:
                received.frames.append((frame.index, frame.pts_s, time.monotonic()))
                received.shape = frame.image.shape
                received.image_std = float(np.std(frame.image))

    thread = threading.Thread(target=run, name="consume-rtsp", daemon=True)
    thread.start()
    return thread


def _wait_until(predicate: object, timeout_s: float, step_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step_s)
    return False


@pytest.fixture
def rtsp_server(vtest_path: Path) -> Iterator[RtspServerProcess]:
    """The vtest clip served at rtsp://127.0.0.1:PORT/cam (H.264, 10 fps, looping)."""
    with RtspServerProcess(vtest_path) as server:
        yield server


def test_frames_flow_and_the_source_reconnects_after_a_10s_outage(rtsp_server: RtspServerProcess) -> None:
    source = _rtsp(rtsp_server.url, reconnect_initial_s=0.25, reconnect_max_s=1.0, read_timeout_s=3.0)
    received = Received()
    consumer = _consume(source, received)
    try:
        assert _wait_until(lambda: received.count() >= 20, 20.0), f"frames: {received.count()}"
        assert received.shape == (576, 768, 3)
        assert received.image_std > 10.0  # a real picture, not a blank frame
        assert source.link.connected and source.link.outages == 0

        rtsp_server.kill()
        killed_at = time.monotonic()
        assert _wait_until(lambda: not source.link.connected, 5.0)
        before = received.count()
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - killed_at)))
        during = source.link
        assert not during.connected
        assert during.last_outage is not None and during.last_outage.end is None  # still going on
        assert during.failed_attempts >= 3  # kept trying with backoff capped at 1 s
        assert "Connection refused" in (during.last_error or "")
        assert received.count() == before  # nothing arrives while the server is away

        rtsp_server.start()
        assert _wait_until(lambda: received.count() >= before + 20, 20.0), f"frames: {received.count()}"
        link = source.link
    finally:
        source.stop()
        consumer.join(10.0)
    assert not consumer.is_alive()
    assert not source.link.connected  # stopped on purpose: disconnected, but no new outage
    assert source.link.outages == 1

    stats = source.stats
    assert stats.reconnects >= 1 and link.reconnects == stats.reconnects
    assert link.connected and link.outages == 1
    outage = link.last_outage
    assert outage is not None and outage.end is not None
    # from the last frame before the kill to the first one after the restart: the 10 s the server was
    # away, plus at most one backoff step (1 s), the server's start and FFmpeg's stream probing
    assert OUTAGE_S - 0.5 <= outage.duration_s <= OUTAGE_S + 8.0, outage
    assert link.outage_total_s == pytest.approx(outage.duration_s)

    indices = [index for index, _, _ in received.frames]
    assert indices == list(range(len(indices)))
    pts = [p for _, p, _ in received.frames]
    steps = np.diff(pts)
    assert np.all(steps > 0)
    # stream time carries the outage: the biggest pts step is the gap, not a frame interval
    assert steps.max() == pytest.approx(outage.duration_s, abs=1.5)
    arrival_gap = max(b[2] - a[2] for a, b in zip(received.frames, received.frames[1:], strict=False))
    print(f"outage {outage.duration_s:.2f} s, pts gap {steps.max():.2f} s, arrival gap {arrival_gap:.2f} s")


def test_a_closed_port_gives_a_clear_error_and_a_disconnected_state() -> None:
    url = f"rtsp://admin:s3cret-pw@127.0.0.1:{free_port()}/cam"
    source = _rtsp(url, open_timeout_s=2.0, reconnect_initial_s=0.2, reconnect_max_s=0.4)
    started = time.monotonic()
    with pytest.raises(SourceError, match="cannot open stream") as caught:
        source.open()
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    assert "s3cret-pw" not in message and "admin:***@127.0.0.1" in message
    assert "Connection refused" in message and "cam-rtsp" in message

    received = Received()
    consumer = _consume(source, received)
    try:
        assert _wait_until(lambda: source.link.failed_attempts >= 3, 5.0)
        link = source.link
        assert not link.connected and link.outages == 1 and received.count() == 0
        assert link.last_outage is not None and link.last_outage.end is None
        assert "s3cret-pw" not in (link.last_error or "") and "Connection refused" in (link.last_error or "")
        assert source.stats.decode_errors == 0  # a refused connection is not a decode error
        stopped_at = time.monotonic()
    finally:
        source.stop()
        consumer.join(5.0)
    assert not consumer.is_alive()
    assert time.monotonic() - stopped_at < 1.0  # stop interrupts the backoff wait


def test_a_server_that_never_answers_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog) but never replies
        port = silent.getsockname()[1]
        source = _rtsp(f"rtsp://127.0.0.1:{port}/cam", open_timeout_s=1.0, read_timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"no answer within 1 s \(timeout"):
            source.open()
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 4.0


def test_a_stalled_stream_is_detected_by_the_read_timeout(rtsp_server: RtspServerProcess) -> None:
    source = _rtsp(rtsp_server.url, read_timeout_s=1.0, open_timeout_s=1.0, reconnect_max_s=0.5)
    received = Received()
    consumer = _consume(source, received)
    try:
        assert _wait_until(lambda: received.count() >= 5, 20.0)
        rtsp_server.pause()  # the TCP connection stays up, no byte flows
        paused_at = time.monotonic()
        assert _wait_until(lambda: not source.link.connected, 4.0)
        assert time.monotonic() - paused_at >= 0.5
        assert "no answer within 1 s (timeout" in (source.link.last_error or "")
        rtsp_server.resume()
        count = received.count()
        assert _wait_until(lambda: received.count() >= count + 5, 20.0)
        assert source.link.connected and source.stats.reconnects >= 1
    finally:
        rtsp_server.resume()
        source.stop()
        consumer.join(5.0)
    assert not consumer.is_alive()


class _MjpegHandler:
    """A multipart/x-mixed-replace MJPEG stream of vtest frames, like many IP cameras' /video.mjpg."""

    def __init__(self, video: Path, frames: int) -> None:
        capture = cv2.VideoCapture(str(video))
        self.jpegs: list[bytes] = []
        for _ in range(frames):
            ok, image = capture.read()
            if not ok:
                break
            self.jpegs.append(cv2.imencode(".jpg", image)[1].tobytes())
        capture.release()

    def serve_one(self, server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
            )
            for jpeg in self.jpegs:
                head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                try:
                    conn.sendall(head.encode() + jpeg + b"\r\n")
                except OSError:
                    return
                time.sleep(0.02)


def test_http_mjpeg_streams_are_read_too(vtest_path: Path) -> None:
    handler = _MjpegHandler(vtest_path, frames=30)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        threading.Thread(target=handler.serve_one, args=(server,), daemon=True).start()
        config = RtspSourceConfig(type="rtsp", url=f"http://127.0.0.1:{port}/video.mjpg", read_timeout_s=2.0)
        source = RtspSource(config, camera_id="cam-http")
        shapes = []
        frames = source.frames()
        assert isinstance(frames, Generator)  # closed below, as a consumer that stops early should
        for frame in frames:
            shapes.append(frame.image.shape)
            if len(shapes) == 10:
                break
        frames.close()
        source.close()
    assert shapes == [(576, 768, 3)] * 10
    assert source.link.connect_attempts == 1 and source.stats.frames_decoded >= 10
