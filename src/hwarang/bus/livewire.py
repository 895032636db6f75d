"""Live video's wire: plain (core) subjects, never stored, for leases and fMP4 bytes.

``hwarang.live.lease.<center>.<camera>``: the hub's lease renewals, one a second while someone
watches (a :class:`Lease`: ``start`` on the first of a new upstream, so the edge restarts its stream
and the hub gets an init segment, and the hub's viewer count for the edge's health);
``hwarang.live.video.<center>.<camera>``: the edge's fMP4 messages (the init segment, then a
fragment per GOP), published only while a lease is in force. The center token lets the NATS
permissions of a center's edge user name exactly its own cameras' subjects
(:func:`~hwarang.bus.subjects.center_live_video`, ``center_live_leases``).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hwarang.bus.subjects import LIVE_LEASE_PREFIX, LIVE_VIDEO_PREFIX, check_token

LEASE_START = b"start"
"""Lease payload asking the edge to start its fMP4 afresh (init segment, then fragments)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """One lease renewal: restart the stream?, and how many viewers the hub has (for edge health)."""

    start: bool = False
    viewers: int = 0

    def encode(self) -> bytes:
        """``start viewers=N`` (either part may be missing; empty is a plain renewal)."""
        parts = [LEASE_START] if self.start else []
        if self.viewers:
            parts.append(b"viewers=%d" % self.viewers)
        return b" ".join(parts)


def parse_lease(data: bytes) -> Lease:
    """The lease in ``data``; unknown tokens are ignored, so older and newer hubs still renew."""
    start, viewers = False, 0
    for token in data.split()[:4]:
        if token == LEASE_START:
            start = True
        elif token.startswith(b"viewers="):
            value = token[len(b"viewers=") :]
            viewers = int(value) if value.isdigit() and len(value) < 7 else 0
    return Lease(start, viewers)


Handler = Callable[[str, bytes], None]
Unsubscribe = Callable[[], None]


def lease_subject(center_id: str, camera_id: str) -> str:
    """The subject of a camera's lease renewals: ``hwarang.live.lease.<center>.<camera>``."""
    return f"{LIVE_LEASE_PREFIX}.{check_token('center', center_id)}.{check_token('camera', camera_id)}"


def video_subject(center_id: str, camera_id: str) -> str:
    """The subject of a camera's fMP4 messages: ``hwarang.live.video.<center>.<camera>``."""
    return f"{LIVE_VIDEO_PREFIX}.{check_token('center', center_id)}.{check_token('camera', camera_id)}"


class LiveWire(Protocol):
    """Fire-and-forget publish/subscribe; handlers run on the wire's thread and must not block."""

    def publish(self, subject: str, data: bytes) -> None:
        """Send ``data`` on ``subject`` (to nobody when nobody listens)."""
        ...

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        """Call ``handler(subject, data)`` for each message on ``subject``; returns the unsubscribe."""
        ...


class MemoryLiveWire:
    """The embedded demo's wire: in-process, synchronous, counting the bytes published per subject."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Handler]] = {}
        self._bytes: dict[str, int] = {}

    def publish(self, subject: str, data: bytes) -> None:
        """Deliver ``data`` to the current subscribers of ``subject``."""
        with self._lock:
            self._bytes[subject] = self._bytes.get(subject, 0) + len(data)
            handlers = list(self._handlers.get(subject, ()))
        for handler in handlers:
            handler(subject, data)

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        """Add ``handler`` for ``subject``."""
        with self._lock:
            self._handlers.setdefault(subject, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                handlers = self._handlers.get(subject, [])
                if handler in handlers:
                    handlers.remove(handler)

        return unsubscribe

    def bytes_published(self, prefix: str = LIVE_VIDEO_PREFIX + ".") -> int:
        """Bytes published on subjects starting with ``prefix`` (the leaf link's share, in the demo)."""
        with self._lock:
            return sum(n for subject, n in self._bytes.items() if subject.startswith(prefix))
