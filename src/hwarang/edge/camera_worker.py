"""One camera's worker: capture and analytics threads, events handed to a publisher.

Capture never blocks on analytics: frames go through a bounded queue and are dropped and counted
when it is full (Frigate's back-pressure). A camera that fails to open is retried with backoff while
the others keep running.
"""

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

from hwarang.domain import Camera, EventMessage
from hwarang.edge.camera_setup import build_analytics
from hwarang.edge.config import CameraConfig
from hwarang.edge.errors import SourceError
from hwarang.edge.frame import Frame
from hwarang.edge.health import CameraHealth, CameraState
from hwarang.edge.sources import build_source

logger = logging.getLogger(__name__)

Publish = Callable[[EventMessage], None]
_END = object()


class _Rate:
    """Events per second over a sliding window."""

    def __init__(self, window_s: float = 5.0) -> None:
        self._window_s = window_s
        self._stamps: deque[float] = deque()

    def tick(self) -> None:
        now = time.monotonic()
        self._stamps.append(now)
        while self._stamps and now - self._stamps[0] > self._window_s:
            self._stamps.popleft()

    def value(self) -> float:
        now = time.monotonic()
        recent = [s for s in self._stamps if now - s <= self._window_s]
        return 0.0 if len(recent) < 2 else (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


class CameraWorker:
    """Decodes one camera and runs its analytics; hands each event to ``publish``."""

    def __init__(
        self,
        camera: Camera,
        config: CameraConfig,
        publish: Publish,
        *,
        queue_size: int = 4,
        retry_initial_s: float = 1.0,
        retry_max_s: float = 30.0,
    ) -> None:
        self.camera = camera
        self._config = config
        self._publish = publish
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._source_stop: Callable[[], None] | None = None
        self._source_fps = 0.0
        self._state = CameraState.STARTING
        self._counts = {"in": 0, "processed": 0, "dropped": 0, "decode_errors": 0, "analytics_errors": 0}
        self._counts |= {"events": 0, "reconnects": 0}
        self._last_error: str | None = None
        self._rate_in = _Rate()
        self._rate_out = _Rate()

    def start(self) -> None:
        """Start the capture and analytics threads."""
        for name, target in (("capture", self._capture_loop), ("analytics", self._analytics_loop)):
            thread = threading.Thread(target=target, name=f"{name}-{self.camera.id}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop both threads and wait for them."""
        self._stop.set()
        if self._source_stop is not None:
            self._source_stop()
        for thread in self._threads:
            thread.join(timeout_s)
        with self._lock:
            if self._state not in (CameraState.FINISHED,):
                self._state = CameraState.STOPPED

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until both threads have ended (a finite file played out); True when they have."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def health(self) -> CameraHealth:
        """Current counters."""
        with self._lock:
            c = dict(self._counts)
            state, error = self._state, self._last_error
        return CameraHealth(
            camera_id=self.camera.id,
            state=state,
            fps_in=round(self._rate_in.value(), 2),
            fps_processed=round(self._rate_out.value(), 2),
            frames_in=c["in"],
            frames_processed=c["processed"],
            frames_dropped=c["dropped"],
            decode_errors=c["decode_errors"],
            analytics_errors=c["analytics_errors"],
            events=c["events"],
            reconnects=c["reconnects"],
            last_error=error,
        )

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _set_state(self, state: CameraState, error: str | None = None) -> None:
        with self._lock:
            self._state = state
            if error is not None:
                self._last_error = error

    def _capture_loop(self) -> None:
        delay = self._retry_initial_s
        first = True
        while not self._stop.is_set():
            if not first:
                self._count("reconnects")
            first = False
            try:
                finished = self._play_source()
            except SourceError as exc:
                logger.warning("camera %s: source failed: %s; retrying in %.1f s", self.camera.id, exc, delay)
                self._set_state(CameraState.RETRYING, str(exc))
                if self._stop.wait(delay):
                    break
                delay = min(delay * 2.0, self._retry_max_s)
                continue
            except Exception as exc:  # a stage's top loop: log with context and carry on
                logger.exception("camera %s: unexpected capture failure", self.camera.id)
                self._set_state(CameraState.RETRYING, f"{type(exc).__name__}: {exc}")
                if self._stop.wait(delay):
                    break
                delay = min(delay * 2.0, self._retry_max_s)
                continue
            if finished:
                break
            delay = self._retry_initial_s
        self._queue.put(_END)

    def _play_source(self) -> bool:
        """Play the source to its end; True when it ended normally (a finite file)."""
        source = build_source(self._config.source, camera_id=self.camera.id)
        self._source_stop = source.stop
        try:
            self._set_state(CameraState.RUNNING)
            errors_seen = 0
            for frame in source.frames():
                if self._stop.is_set():
                    return False
                if self._source_fps <= 0.0:
                    self._source_fps = float(source.fps)
                self._count("in")
                self._rate_in.tick()
                errors = source.stats.decode_errors
                if errors != errors_seen:
                    self._count("decode_errors", errors - errors_seen)
                    errors_seen = errors
                try:
                    self._queue.put_nowait(frame)
                except queue.Full:
                    self._count("dropped")
            return not self._stop.is_set()
        finally:
            source.close()

    def _analytics_loop(self) -> None:
        analytics = None
        while True:
            item = self._queue.get()
            if item is _END:
                break
            if not isinstance(item, Frame):
                continue
            try:
                if analytics is None or item.index == 0:
                    analytics = build_analytics(
                        self.camera, self._config, self._fps_hint(), (item.width, item.height)
                    )
                messages = analytics.process(item)
            except Exception as exc:  # a stage's top loop: one bad frame must not stop the camera
                logger.exception("camera %s: analytics failed on frame %d", self.camera.id, item.index)
                self._count("analytics_errors")
                self._set_state(CameraState.RUNNING, f"analytics: {type(exc).__name__}: {exc}")
                continue
            self._count("processed")
            self._rate_out.tick()
            for message in messages:
                self._publish(message)
                self._count("events")
        if not self._stop.is_set():
            self._set_state(CameraState.FINISHED)

    def _fps_hint(self) -> float:
        return self._source_fps if self._source_fps > 0.0 else 10.0
