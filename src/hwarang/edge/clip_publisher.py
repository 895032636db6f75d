"""Sending cut clips to the bus in chunks, from a sender thread of its own.

Camera threads hand a clip over without waiting (a bounded queue; when it is full the clip is
dropped, counted and logged: the event itself is already on the bus). The sender publishes each
chunk with its msg id and retries until the bus stores it, so a clip reaches the center's leaf
stream in full; the leaf's ``HWARANG_CLIPS`` keeps it until the hub's stream has copied it.
"""

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass

from hwarang.bus import Bus, BusError
from hwarang.bus.clipwire import split_clip
from hwarang.bus.subjects import clip_subject
from hwarang.domain import ClipManifest, EventMessage
from hwarang.edge.media.clips import Clip

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ClipPublisherStats:
    """Counters since start."""

    clips: int = 0
    chunks: int = 0
    bytes: int = 0
    duplicates: int = 0
    dropped: int = 0
    failures: int = 0


class ClipPublisher:
    """``publisher(messages, clip)`` queues one clip for the events in ``messages``."""

    def __init__(
        self,
        bus: Bus,
        loop: asyncio.AbstractEventLoop,
        *,
        queue_size: int = 32,
        timeout_s: float = 10.0,
        retry_max_s: float = 30.0,
    ) -> None:
        self._bus = bus
        self._loop = loop
        self._timeout_s = timeout_s
        self._retry_max_s = retry_max_s
        self._queue: queue.Queue[tuple[ClipManifest, str, Clip] | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stats = ClipPublisherStats()

    def start(self) -> None:
        """Start the sender thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="clip-publisher", daemon=True)
            self._thread.start()

    def __call__(self, messages: list[EventMessage], clip: Clip) -> None:
        """Queue ``clip`` for sending; never blocks (a full queue drops it, counted)."""
        if not messages:
            return
        first = messages[0].event
        manifest = ClipManifest(
            camera_id=first.camera_id,
            center_id=first.center_id,
            event_ids=[m.event.id for m in messages],
            clip=clip.ref,
        )
        subject = clip_subject(first.sido_code, first.sigungu_code, first.center_id)
        try:
            self._queue.put_nowait((manifest, subject, clip))
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            logger.error("clip %s of event %s dropped: the send queue is full", clip.ref.sha256, first.id)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued clip is sent; True when so."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the clip in hand (queued clips are not sent)."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._send(*item)
            finally:
                self._queue.task_done()

    def _send(self, manifest: ClipManifest, subject: str, clip: Clip) -> None:
        manifest_json = manifest.model_dump_json()
        for chunk in split_clip(clip.ref.sha256, clip.data, manifest_json):
            if not self._publish(subject, chunk.data, chunk.msg_id, chunk.headers()):
                logger.error("clip %s: not sent, edge stopping", clip.ref.sha256)
                return
        with self._lock:
            self.stats.clips += 1

    def _publish(self, subject: str, data: bytes, msg_id: str, headers: dict[str, str]) -> bool:
        delay = 0.5
        while True:
            future = asyncio.run_coroutine_threadsafe(
                self._bus.publish(subject, data, msg_id=msg_id, headers=headers), self._loop
            )
            try:
                ack = future.result(self._timeout_s)
            except (BusError, TimeoutError, OSError) as exc:
                future.cancel()
                with self._lock:
                    self.stats.failures += 1
                logger.warning("clip chunk %s: publish failed: %s; retrying in %.1f s", msg_id, exc, delay)
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2.0, self._retry_max_s)
                continue
            with self._lock:
                self.stats.chunks += 1
                self.stats.bytes += len(data)
                self.stats.duplicates += ack.duplicate
            return True
