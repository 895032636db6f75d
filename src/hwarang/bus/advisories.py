"""JetStream's max-deliveries advisories, consumed: a message a consumer gave up on is dead-lettered.

When a consumer with ``max_deliver`` delivers a message that many times without an ack, JetStream
stops delivering it and publishes an advisory on
``$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>``. The hub keeps those advisories
in the ``HWARANG_ADVISORIES`` stream (so none is missed while the hub is down) and
:class:`MaxDeliveriesWatcher` reads them through a durable consumer, fetches the message from its
stream by sequence and moves it to ``hwarang.deadletter.max_deliveries``: never dropped.
"""

import asyncio
import contextlib
import logging

from pydantic import BaseModel, ConfigDict, ValidationError

from hwarang.bus.base import BusError, Delivery
from hwarang.bus.deadletter import MAX_DELIVERIES_REASON, publish_dead_letter
from hwarang.bus.nats import NatsBus
from hwarang.bus.nats_consumer import MSG_ID_HEADER

logger = logging.getLogger(__name__)

MAX_DELIVERIES_PREFIX = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
ADVISORIES_STREAM = "HWARANG_ADVISORIES"
RETRY_S = 2.0


def max_deliveries_subject(stream: str, consumer: str = "*") -> str:
    """The advisory subject of ``stream``'s ``consumer`` (``*``: every consumer)."""
    return f"{MAX_DELIVERIES_PREFIX}.{stream}.{consumer}"


class MaxDeliveriesAdvisory(BaseModel):
    """The fields of a max-deliveries advisory the hub uses (JetStream sends more)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


class MaxDeliveriesWatcher:
    """Dead-letters every message of ``stream`` that one of its consumers gave up on."""

    def __init__(self, bus: NatsBus, stream: str, *, durable: str = "hub-max-deliveries") -> None:
        self._bus = bus
        self._stream = stream
        self._durable = durable
        self.dead_lettered = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume advisories until ``stop``; bus failures are logged and retried."""
        subscription = None
        while not stop.is_set():
            try:
                if subscription is None:
                    subscription = await self._bus.subscribe(
                        max_deliveries_subject(self._stream), durable=self._durable, max_deliver=-1
                    )
                for delivery in await subscription.fetch(batch=32, timeout_s=1.0):
                    await self.handle(delivery)
            except BusError as exc:
                logger.warning("max-deliveries advisories of %s: %s; retrying", self._stream, exc)
                subscription = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=RETRY_S)
        if subscription is not None:
            with contextlib.suppress(BusError):
                await subscription.close()

    async def handle(self, delivery: Delivery) -> None:
        """Dead-letter the message one advisory names, then ack the advisory (BusError: retried)."""
        try:
            advisory = MaxDeliveriesAdvisory.model_validate_json(delivery.data)
        except ValidationError as exc:
            logger.warning(
                "unreadable max-deliveries advisory dropped: %s", exc.errors(include_url=False)[:1]
            )
            await delivery.term()
            return
        error = (
            f"consumer {advisory.consumer} gave up after {advisory.deliveries} deliveries without an ack "
            f"(stream {advisory.stream}, seq {advisory.stream_seq})"
        )
        stored = await self._bus.stored_message(advisory.stream, advisory.stream_seq)
        if stored is None:
            logger.error("%s; the message is no longer in the stream", error)
            await publish_dead_letter(
                self._bus,
                MAX_DELIVERIES_REASON,
                delivery.data,
                error=f"{error}; message gone from the stream (advisory kept)",
                subject=delivery.subject,
            )
        else:
            await publish_dead_letter(
                self._bus,
                MAX_DELIVERIES_REASON,
                stored.data,
                error=error,
                subject=stored.subject,
                msg_id=stored.headers.get(MSG_ID_HEADER) or f"{advisory.stream}:{advisory.stream_seq}",
            )
            logger.warning("message dead-lettered: %s", error)
        self.dead_lettered += 1
        await delivery.ack()
