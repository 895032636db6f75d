"""Live video's wire: plain (core) subjects, never stored, for leases and fMP4 bytes.

``hwarang.live.lease.<camera>``: the hub's lease renewals, one a second while someone watches
(payload :data:`LEASE_START` on the first of a new upstream: the edge restarts its stream so the hub
gets an init segment; empty afterwards); ``hwarang.live.video.<camera>``: the edge's fMP4
messages (the init segment, then a fragment per GOP), published only while a lease is in force.
"""

import threading
from collections.abc import Callable
from typing import Protocol

LEASE_START = b"start"
"""Lease payload asking the edge to start its fMP4 afresh (init segment, then fragments)."""

Handler = Callable[[str, bytes], None]
Unsubscribe = Callable[[], None]


def lease_subject(camera_id: str) -> str:
    """The subject of ``camera_id``'s lease renewals."""
    return f"hwarang.live.lease.{camera_id}"


def video_subject(camera_id: str) -> str:
    """The subject of ``camera_id``'s fMP4 messages."""
    return f"hwarang.live.video.{camera_id}"


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

    def bytes_published(self, prefix: str = "hwarang.live.video.") -> int:
        """Bytes published on subjects starting with ``prefix`` (the leaf link's share, in the demo)."""
        with self._lock:
            return sum(n for subject, n in self._bytes.items() if subject.startswith(prefix))
