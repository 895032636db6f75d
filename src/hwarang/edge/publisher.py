"""Handing events from camera threads to the bus, which lives on an asyncio loop."""

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping

from hwarang.bus import Bus, BusError, event_subject
from hwarang.domain import EventMessage

logger = logging.getLogger(__name__)


class BusPublisher:
    """Publishes each event (msg id = event id, so retries never duplicate), retrying until it is stored.

    ``signers`` sign the events of their center (by center id) before they are sent.

    Called from camera threads; blocks the calling analytics thread while the bus is unreachable, so
    the bounded frame queue upstream drops frames (counted) rather than losing events.
    """

    def __init__(
        self,
        bus: Bus,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout_s: float = 10.0,
        retry_max_s: float = 30.0,
        stop: threading.Event | None = None,
        signers: Mapping[str, Callable[[EventMessage], EventMessage]] | None = None,
    ) -> None:
        self._bus = bus
        self._loop = loop
        self._timeout_s = timeout_s
        self._retry_max_s = retry_max_s
        self._stop = stop or threading.Event()
        self._signers = dict(signers or {})
        self._lock = threading.Lock()
        self.published = 0
        self.duplicates = 0
        self.failures = 0

    def __call__(self, message: EventMessage) -> None:
        sign = self._signers.get(message.event.center_id)
        if sign is not None:
            message = sign(message)
        event = message.event
        subject = event_subject(event.sido_code, event.sigungu_code, event.center_id)
        data = message.model_dump_json().encode("utf-8")
        delay = 0.5
        while True:
            future = asyncio.run_coroutine_threadsafe(
                self._bus.publish(subject, data, msg_id=str(event.id)), self._loop
            )
            try:
                ack = future.result(self._timeout_s)
            except (BusError, TimeoutError, OSError) as exc:
                future.cancel()
                with self._lock:
                    self.failures += 1
                logger.warning(
                    "event %s: publish to %s failed: %s; retrying in %.1f s", event.id, subject, exc, delay
                )
                if self._stop.wait(delay):
                    logger.error("event %s: not published, edge stopping", event.id)
                    return
                delay = min(delay * 2.0, self._retry_max_s)
                continue
            with self._lock:
                self.published += 1
                self.duplicates += ack.duplicate
            return

    def stop(self) -> None:
        """Stop retrying (used at shutdown)."""
        self._stop.set()
