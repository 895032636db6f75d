"""Live incident fan-out: hub listener threads -> event loop -> one bounded queue per WebSocket client."""

import asyncio
import logging
import threading
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from hwarang.domain import DomainModel, Incident

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
"""WebSocket close code: missing, invalid or expired token (log in again, do not retry)."""
CLOSE_TOO_SLOW = 1013
"""WebSocket close code: the client fell behind; reconnect and resume from the last seen seq."""


class HelloMessage(DomainModel):
    """First message on a new connection: the hub's newest incident change."""

    type: Literal["hello"] = "hello"
    last_seq: int = Field(ge=0)


class IncidentMessage(DomainModel):
    """An incident created or changed (or replayed after a resume)."""

    type: Literal["incident"] = "incident"
    seq: int = Field(ge=0)
    incident: Incident


class TruncatedMessage(DomainModel):
    """A resume asked for more than the replay limit; only incidents from ``first_seq`` follow."""

    type: Literal["truncated"] = "truncated"
    after_seq: int
    first_seq: int


class ErrorMessage(DomainModel):
    """A client message was not understood (the connection stays open)."""

    type: Literal["error"] = "error"
    detail: str


class PongMessage(DomainModel):
    """Answer to a ping."""

    type: Literal["pong"] = "pong"


class ResumeRequest(DomainModel):
    """Client -> hub: send every incident with ``seq > after_seq``, oldest first, then live ones."""

    type: Literal["resume"]
    after_seq: int = Field(ge=0)


class PingRequest(DomainModel):
    """Client -> hub: keep-alive."""

    type: Literal["ping"]


ClientMessage = Annotated[ResumeRequest | PingRequest, Field(discriminator="type")]
client_message_adapter: TypeAdapter[ResumeRequest | PingRequest] = TypeAdapter(ClientMessage)


class LiveClient:
    """One connected client's bounded inbox; ``overflowed`` is set when it could not keep up."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Incident] = asyncio.Queue(maxsize)
        self.overflowed = asyncio.Event()

    def offer(self, incident: Incident) -> bool:
        """Queue ``incident`` without blocking; on overflow mark the client and return False."""
        try:
            self.queue.put_nowait(incident)
        except asyncio.QueueFull:
            self.overflowed.set()
            return False
        return True


class IncidentBroadcaster:
    """Hands incidents from any thread to the event loop and fans them out to live clients."""

    def __init__(self, queue_size: int = 256) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self._queue_size = queue_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[LiveClient] = set()
        self._lock = threading.Lock()
        self._published = 0
        self._not_attached = 0
        self._delivered = 0
        self._overflows = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on ``loop`` from now on (call at start-up, from the loop's thread)."""
        self._loop = loop

    def detach(self) -> None:
        """Stop delivering (at shutdown); incidents published meanwhile are counted, and resumable."""
        self._loop = None
        self._clients.clear()

    def publish(self, incident: Incident) -> None:
        """Hand ``incident`` to the event loop; safe to call from any thread, never blocks."""
        loop = self._loop
        with self._lock:
            self._published += 1
            if loop is None or loop.is_closed():
                self._not_attached += 1
                return
        try:
            loop.call_soon_threadsafe(self._fan_out, incident)
        except RuntimeError:
            with self._lock:
                self._not_attached += 1
            logger.debug("event loop closed; incident seq=%s not broadcast", incident.seq)

    def connect(self) -> LiveClient:
        """Register a new client (on the attached loop) and return its inbox."""
        if self._loop is None:
            raise RuntimeError("IncidentBroadcaster is not attached to an event loop (app lifespan not run?)")
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError("IncidentBroadcaster.connect called outside the attached event loop")
        client = LiveClient(self._queue_size)
        self._clients.add(client)
        return client

    def disconnect(self, client: LiveClient) -> None:
        """Forget ``client`` (idempotent)."""
        self._clients.discard(client)

    def stats(self) -> dict[str, int]:
        """Counters for health and monitoring."""
        with self._lock:
            return {
                "clients": len(self._clients),
                "published": self._published,
                "not_attached": self._not_attached,
                "delivered": self._delivered,
                "overflow_disconnects": self._overflows,
            }

    def _fan_out(self, incident: Incident) -> None:
        for client in list(self._clients):
            if client.offer(incident):
                self._delivered += 1
                continue
            self._clients.discard(client)
            self._overflows += 1
            logger.warning(
                "live client fell behind (%s queued); disconnecting it at incident seq=%s",
                self._queue_size,
                incident.seq,
            )
