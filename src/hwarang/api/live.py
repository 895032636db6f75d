"""Live incident fan-out: hub listener threads -> event loop -> one bounded queue per WebSocket client.

Besides incidents, the queue carries :class:`AccessChanged` marks: grants or shares changed somewhere,
so each connection re-reads its user's scope at once and tells the page when its own rights moved.
"""

import asyncio
import logging
import threading
from dataclasses import dataclass
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


class AccessMessage(DomainModel):
    """Your grants or shares changed (opened, lifted, expired, revoked): fetch evidence on screen again."""

    type: Literal["access"] = "access"
    grants: int = Field(ge=0, description="Grants in force for you now.")
    shares: int = Field(ge=0, description="Incidents shared with your agency now.")


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


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """Queue mark: grants or shares changed (``reason``: ``condition.lift``, ``share.revoke``, ...)."""

    reason: str


LiveItem = Incident | AccessChanged


class LiveClient:
    """One connected client's bounded inbox; ``overflowed`` is set when it could not keep up."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[LiveItem] = asyncio.Queue(maxsize)
        self.overflowed = asyncio.Event()

    def offer(self, item: LiveItem) -> bool:
        """Queue ``item`` without blocking; on overflow mark the client and return False."""
        try:
            self.queue.put_nowait(item)
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
        self._access_changes = 0

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

    def access_changed(self, reason: str) -> None:
        """Grants or shares changed: every client re-checks its rights; any thread, never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._fan_out_access, AccessChanged(reason))
        except RuntimeError:
            logger.debug("event loop closed; access change %s not broadcast", reason)

    @property
    def access_generation(self) -> int:
        """Counts access changes seen on the loop: a live video view re-checks when it moved."""
        return self._access_changes

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
                "access_changes": self._access_changes,
            }

    def _fan_out(self, incident: Incident) -> None:
        for client in list(self._clients):
            if client.offer(incident):
                self._delivered += 1
                continue
            self._drop(client, f"incident seq={incident.seq}")

    def _fan_out_access(self, change: AccessChanged) -> None:
        self._access_changes += 1
        for client in list(self._clients):
            if not client.offer(change):
                self._drop(client, f"access change {change.reason}")

    def _drop(self, client: LiveClient, at: str) -> None:
        self._clients.discard(client)
        self._overflows += 1
        logger.warning("live client fell behind (%s queued); disconnecting it at %s", self._queue_size, at)
