"""Hub side of live view: one leased upstream per camera, shared by every viewer at the hub.

Upstreams are keyed by (center, camera), the tokens of the camera's live subjects. The first viewer
of a camera subscribes to its fMP4 subject and starts renewing the camera's lease every
``renew_s`` (telling the edge how many viewers it has); the last to leave stops both, so the
edge's lease lapses and its bytes stop. A viewer gets the camera's init segment, then fragments
from the next whole one (each starts on a keyframe). Fragments arrive on the wire's thread and
reach viewers on the event loop through bounded queues: a viewer that falls behind is dropped
(``overflowed``), never waited for.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hwarang.bus.livewire import Lease, LiveWire, Unsubscribe, lease_subject, video_subject

logger = logging.getLogger(__name__)


def _box(data: bytes) -> bytes:
    return data[4:8] if len(data) >= 8 else b""


class LiveViewer:
    """One viewer's inbox of fMP4 messages."""

    def __init__(self, camera_id: str, queue_size: int, center_id: str = "") -> None:
        self.camera_id = camera_id
        self.center_id = center_id
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self.overflowed = asyncio.Event()
        self.started = False
        self.has_init = False
        self.bytes_sent = 0

    def offer(self, data: bytes) -> None:
        """Queue ``data`` without blocking; mark the viewer overflowed when full."""
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed.set()


@dataclass(slots=True)
class _Upstream:
    viewers: set[LiveViewer] = field(default_factory=set)
    init: bytes | None = None
    unsubscribe: Unsubscribe | None = None
    renewer: asyncio.Task[None] | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    views: int = 0


class LiveRelay:
    """Leases cameras' live streams for the hub's viewers and fans their fMP4 out (event-loop side)."""

    def __init__(
        self,
        wire: LiveWire,
        *,
        renew_s: float = 1.0,
        queue_size: int = 64,
        center_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._wire = wire
        self._renew_s = renew_s
        self._queue_size = queue_size
        self._center_of = center_of
        self._upstreams: dict[tuple[str, str], _Upstream] = {}
        self._lock = threading.Lock()

    def join(self, camera_id: str, *, center: str | None = None) -> LiveViewer:
        """A new viewer of ``camera_id`` of ``center`` (call on the event loop); starts the upstream if first.

        Without ``center`` the relay's ``center_of`` lookup names it; LookupError if nothing does.
        """
        if center is None and self._center_of is not None:
            center = self._center_of(camera_id)
        if center is None:
            raise LookupError(f"camera {camera_id}: no center known for its live view")
        loop = asyncio.get_running_loop()
        key = (center, camera_id)
        viewer = LiveViewer(camera_id, self._queue_size, center)
        with self._lock:
            upstream = self._upstreams.setdefault(key, _Upstream())
            upstream.viewers.add(viewer)
            upstream.views += 1
            first = upstream.unsubscribe is None
        if first:

            def on_bytes(_subject: str, data: bytes) -> None:
                loop.call_soon_threadsafe(self._fan_out, key, data)

            upstream.unsubscribe = self._wire.subscribe(video_subject(center, camera_id), on_bytes)
            upstream.renewer = loop.create_task(self._renew(key))
        elif upstream.init is not None:
            viewer.offer(upstream.init)
            viewer.has_init = True
        return viewer

    def leave(self, viewer: LiveViewer) -> None:
        """Forget ``viewer`` (idempotent); the last one stops the upstream and its lease."""
        with self._lock:
            upstream = self._upstreams.get((viewer.center_id, viewer.camera_id))
            if upstream is None or viewer not in upstream.viewers:
                return
            upstream.viewers.discard(viewer)
            if upstream.viewers:
                return
            unsubscribe, renewer = upstream.unsubscribe, upstream.renewer
            upstream.unsubscribe, upstream.renewer, upstream.init = None, None, None
        if unsubscribe is not None:
            unsubscribe()
        if renewer is not None:
            renewer.cancel()

    async def _renew(self, key: tuple[str, str]) -> None:
        subject = lease_subject(*key)
        start = True
        while True:
            with self._lock:
                upstream = self._upstreams.get(key)
                viewers = len(upstream.viewers) if upstream is not None else 0
            self._wire.publish(subject, Lease(start, viewers).encode())
            start = False
            await asyncio.sleep(self._renew_s)

    def _fan_out(self, key: tuple[str, str], data: bytes) -> None:
        upstream = self._upstreams.get(key)
        if upstream is None or not upstream.viewers:
            return
        upstream.bytes_in += len(data)
        box = _box(data)
        if box == b"ftyp":
            upstream.init = data
        for viewer in list(upstream.viewers):
            if box == b"ftyp":
                viewer.started, viewer.has_init = False, True
                viewer.offer(data)
                continue
            if not viewer.started:
                if box != b"moof" or upstream.init is None:
                    continue
                if not viewer.has_init:
                    viewer.offer(upstream.init)
                    viewer.has_init = True
                viewer.started = True
            viewer.offer(data)
            viewer.bytes_sent += len(data)
            upstream.bytes_out += len(data)

    async def close(self) -> None:
        """Stop every upstream (at shutdown)."""
        for upstream in list(self._upstreams.values()):
            for viewer in list(upstream.viewers):
                self.leave(viewer)
                viewer.overflowed.set()
        await asyncio.sleep(0)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per camera: current viewers, views started, bytes from the edge and to viewers."""
        with self._lock:
            return {
                camera_id: {
                    "viewers": len(u.viewers),
                    "views": u.views,
                    "bytes_in": u.bytes_in,
                    "bytes_sent": u.bytes_out,
                }
                for (_center, camera_id), u in self._upstreams.items()
            }
