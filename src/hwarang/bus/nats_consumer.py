"""Deliveries and durable pull subscriptions of the NATS backend (see ``hwarang.bus.nats``)."""

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import nats.errors
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext

from hwarang.bus.base import BusError, Delivery

if TYPE_CHECKING:
    from hwarang.bus.nats import NatsBus

logger = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"


class NatsDelivery:
    """One JetStream message handed to a consumer (ack, nak with delay, or term)."""

    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        self._headers: dict[str, str] = dict(msg.headers or {})
        self._done = False

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def msg_id(self) -> str | None:
        return self._headers.get(MSG_ID_HEADER)

    @property
    def num_delivered(self) -> int:
        return int(self._msg.metadata.num_delivered or 1)

    async def ack(self) -> None:
        await self._finish("ack", self._msg.ack())

    async def nak(self, delay_s: float = 0.0) -> None:
        await self._finish("nak", self._msg.nak(delay=delay_s if delay_s > 0 else None))

    async def term(self) -> None:
        await self._finish("term", self._msg.term())

    async def in_progress(self) -> None:
        if self._done:
            return
        try:
            await self._msg.in_progress()
        except (nats.errors.Error, OSError) as exc:
            raise BusError(f"in-progress of {self.subject} (msg id {self.msg_id}) failed: {exc}") from exc

    async def _finish(self, what: str, action: Any) -> None:
        if self._done:
            action.close()
            return
        self._done = True
        try:
            await action
        except (nats.errors.Error, OSError) as exc:
            raise BusError(f"{what} of {self.subject} (msg id {self.msg_id}) failed: {exc}") from exc


class NatsSubscription:
    """A durable pull consumer; fetch returns ``[]`` on timeout."""

    def __init__(self, bus: "NatsBus", psub: JetStreamContext.PullSubscription, durable: str) -> None:
        self._bus = bus
        self._psub = psub
        self.durable = durable
        self._closed = False

    async def fetch(self, batch: int = 64, timeout_s: float = 1.0) -> list[Delivery]:
        """Up to ``batch`` deliveries; waits up to ``timeout_s`` for the first; ``[]`` on timeout."""
        if self._closed or self._bus.closed:
            raise BusError(f"subscription {self.durable!r} is closed")
        try:
            msgs = await self._psub.fetch(batch, timeout=max(timeout_s, 0.01))
        except (nats.errors.TimeoutError, TimeoutError):
            # nats-py raises the builtin TimeoutError (an OSError) when a deadline passes between its
            # requests: that is a timeout too, not a failed fetch.
            return []
        except (nats.errors.Error, OSError) as exc:
            raise BusError(
                f"fetch from durable {self.durable!r} failed: {exc or type(exc).__name__}"
            ) from exc
        return [NatsDelivery(m) for m in msgs]

    async def close(self) -> None:
        """Stop fetching; the durable consumer stays on the server and unacked messages are redelivered."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._psub.unsubscribe()
        except (nats.errors.Error, OSError) as exc:
            logger.debug("durable %s: unsubscribe failed: %s", self.durable, exc)
