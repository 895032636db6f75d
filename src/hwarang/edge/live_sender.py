"""Edge side of live view: a camera's packets become fMP4 on the wire only while the hub holds a lease."""

import logging
import threading
import time
from collections.abc import Callable

from hwarang.bus.livewire import LiveWire, Unsubscribe, lease_subject, parse_lease, video_subject
from hwarang.edge.errors import MediaError
from hwarang.edge.media.clips import EncodedPacket
from hwarang.edge.media.fmp4 import FragmentMuxer

logger = logging.getLogger(__name__)

LEASE_S = 3.0
"""A lease lapses this long after the hub's last renewal (the hub renews every second)."""


class LiveSender:
    """One camera's live upstream: ``add(packet, size)`` for every encoded packet (camera thread).

    Without a lease in force nothing is muxed and nothing is published. With one, the packets from
    the next keyframe are remuxed (never re-encoded) into fMP4: one message per muxer write batch,
    the first the init segment. A lapsed lease drops the muxer, so the next lease starts afresh.
    Its subjects carry ``center_id`` (``hwarang.live.*.<center>.<camera>``), the only ones the
    center's NATS user may use.
    """

    def __init__(
        self,
        camera_id: str,
        wire: LiveWire,
        fps: float,
        *,
        center_id: str,
        lease_s: float = LEASE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera_id = camera_id
        self.center_id = center_id
        self._wire = wire
        self._fps = fps
        self._lease_s = lease_s
        self._clock = clock
        self._lock = threading.Lock()
        self._leased_until = 0.0
        self._muxer: FragmentMuxer | None = None
        self._pending: list[bytes] = []
        self._restart = False
        self._viewers = 0
        self._subject = video_subject(center_id, camera_id)
        self.bytes_sent = 0
        self.messages_sent = 0
        self.leases = 0
        self._unsubscribe: Unsubscribe = wire.subscribe(lease_subject(center_id, camera_id), self._on_lease)

    @property
    def leased(self) -> bool:
        """True while a lease is in force."""
        with self._lock:
            return self._clock() < self._leased_until

    @property
    def viewers(self) -> int:
        """Viewers at the hub by the last lease renewal (0 once the lease lapsed)."""
        with self._lock:
            return self._viewers if self._clock() < self._leased_until else 0

    def _on_lease(self, _subject: str, data: bytes) -> None:
        lease = parse_lease(data)
        with self._lock:
            self._leased_until = self._clock() + self._lease_s
            self.leases += 1
            self._viewers = lease.viewers
            if lease.start:
                self._restart = True

    def add(self, packet: EncodedPacket, size: tuple[int, int]) -> None:
        """Mux and publish ``packet`` if leased; otherwise drop any running stream."""
        if not self.leased:
            if self._muxer is not None:
                self._muxer, self._pending = None, []
                logger.info("camera %s: live lease lapsed; upstream stopped", self.camera_id)
            return
        with self._lock:
            restart, self._restart = self._restart, False
        if restart and self._muxer is not None:
            self._muxer, self._pending = None, []  # a new upstream at the hub needs a new init segment
        if self._muxer is None:
            self._muxer = FragmentMuxer(self._fps, self._pending.append)
        try:
            self._muxer.add(packet, size)
        except MediaError as exc:
            logger.warning("camera %s: live stream restarted: %s", self.camera_id, exc)
            self._muxer, self._pending = None, []
            return
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._wire.publish(self._subject, data)
            self.bytes_sent += len(data)
            self.messages_sent += 1

    def close(self) -> None:
        """Stop listening for leases."""
        self._unsubscribe()
        self._muxer = None

    def stats(self) -> dict[str, int | bool]:
        """Counters for the edge's health."""
        return {
            "leased": self.leased,
            "viewers": self.viewers,
            "bytes_sent": self.bytes_sent,
            "messages": self.messages_sent,
        }
