"""A fixed pool of analytics threads shared by all cameras of an edge node.

Each camera gets a ``CameraLane``: a bounded frame queue that capture fills without ever blocking
(``offer`` returns False when full; the caller counts the drop). A lane is scheduled on the pool's
ready queue while it holds frames, and at most one worker serves a lane at a time, so each camera's
frames are analysed in order while the pool as a whole uses every core. A worker takes one frame per
turn, so a busy camera cannot starve the others.
"""

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable

from hwarang.edge.frame import Frame

logger = logging.getLogger(__name__)

FrameHandler = Callable[[Frame], None]
EndHandler = Callable[[], None]


class CameraLane:
    """One camera's bounded queue into the pool."""

    def __init__(
        self, pool: "AnalyticsPool", camera_id: str, handler: FrameHandler, on_end: EndHandler, maxsize: int
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"camera {camera_id}: lane size must be >= 1, got {maxsize}")
        self.camera_id = camera_id
        self._pool = pool
        self._handler = handler
        self._on_end = on_end
        self._maxsize = maxsize
        self._frames: deque[Frame] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._closed = False
        self._ended = threading.Event()

    def offer(self, frame: Frame) -> bool:
        """Queue a frame for analysis; False (and nothing queued) when the lane is full or closed."""
        with self._lock:
            if self._closed or len(self._frames) >= self._maxsize:
                return False
            self._frames.append(frame)
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self._pool._ready.put(self)
        return True

    def close(self) -> None:
        """No more frames: the queued ones are still analysed, then ``on_end`` runs once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self._pool._ready.put(self)

    def wait_ended(self, timeout_s: float | None = None) -> bool:
        """Wait until the lane is closed and drained; True when it is."""
        return self._ended.wait(timeout_s)

    @property
    def pending(self) -> int:
        """Frames queued and not yet taken by a worker."""
        with self._lock:
            return len(self._frames)

    def _serve_one(self) -> None:
        """Called by a worker: analyse one frame, then reschedule or finish the lane."""
        with self._lock:
            frame = self._frames.popleft() if self._frames else None
        if frame is not None:
            try:
                self._handler(frame)
            except Exception:  # a stage's top loop: one bad frame must not kill a pool thread
                logger.exception(
                    "camera %s: analytics handler failed on frame %d", self.camera_id, frame.index
                )
        with self._lock:
            if self._frames:
                reschedule, finish = True, False
            else:
                self._scheduled = False
                reschedule, finish = False, self._closed and not self._ended.is_set()
        if reschedule:
            self._pool._ready.put(self)
        elif finish:
            try:
                self._on_end()
            finally:
                self._ended.set()


class AnalyticsPool:
    """``workers`` threads (default: the number of cores) serving every camera lane."""

    def __init__(self, workers: int | None = None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise ValueError(f"an analytics pool needs at least one worker, got {count}")
        self.workers = count
        self._ready: queue.Queue[CameraLane | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._started = False

    def lane(
        self, camera_id: str, handler: FrameHandler, on_end: EndHandler, *, maxsize: int = 4
    ) -> CameraLane:
        """A new lane for one camera."""
        return CameraLane(self, camera_id, handler, on_end, maxsize)

    def start(self) -> None:
        """Start the worker threads (idempotent)."""
        if self._started:
            return
        self._started = True
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"analytics-{i}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the workers after the lane turn each is serving."""
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()
        self._started = False

    def _work(self) -> None:
        while True:
            lane = self._ready.get()
            if lane is None:
                return
            lane._serve_one()
