"""The ingest loop: bus deliveries -> validated EventMessages -> IngestService.batch.

Each fetched batch is stored in one transaction and acked only after the commit. When the batch
fails, its messages are retried one by one, so one bad message does not block the rest. Invalid
messages go to ``hwarang.deadletter.invalid_event`` (reason in a header) and are terminated;
storage outages are nak'ed for redelivery (with the rest of the batch, to keep per-camera order);
nothing one message does stops the loop.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from pydantic import ValidationError

from hwarang.bus import Bus, BusError, Delivery, Subscription
from hwarang.bus.subjects import EVENTS_ALL, dead_letter_subject
from hwarang.domain import EventMessage
from hwarang.hub.errors import IngestError, StoreError
from hwarang.hub.fusion.ingest import IngestResult

logger = logging.getLogger(__name__)

INVALID_EVENT_REASON = "invalid_event"
PROVENANCE_REASON = "provenance"
ERROR_HEADER = "hwarang-error"
ORIGINAL_SUBJECT_HEADER = "hwarang-original-subject"
STORE_RETRY_DELAY_S = 1.0
MAX_ERROR_CHARS = 300


@dataclass(slots=True)
class IngestStats:
    """Counters of the ingest loop since start."""

    received: int = 0
    ingested: int = 0
    duplicates: int = 0
    invalid: int = 0
    failed: int = 0
    batches: int = 0
    fallbacks: int = 0
    ack_failures: int = 0
    unproven: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name (``invalid`` is the dead-letter count), for health reports."""
        return asdict(self)


def describe_validation_error(exc: ValidationError) -> str:
    """One short line naming the first problem and where it is."""
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc)[:MAX_ERROR_CHARS]
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "<root>"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['type']} at {loc}: {first['msg']}{more}"[:MAX_ERROR_CHARS]


class Ingest(Protocol):
    """What the loop stores events with (:class:`~hwarang.hub.fusion.ingest.IngestService`)."""

    def event(self, message: EventMessage) -> IngestResult:
        """Ingest one event."""
        ...

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        """Ingest a batch in one transaction."""
        ...


class IngestWorker:
    """Consumes events from ``subject`` through the durable consumer ``durable``."""

    def __init__(
        self,
        bus: Bus,
        ingest: Ingest,
        *,
        subject: str = EVENTS_ALL,
        durable: str = "hub-ingest",
        batch: int = 64,
        provenance: Callable[[str, bytes], str | None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self._bus = bus
        self._ingest = ingest
        self._subject = subject
        self._durable = durable
        self._batch = batch
        self._provenance = provenance
        self._subscription: Subscription | None = None
        self.stats = IngestStats()

    async def _subscribe(self) -> Subscription:
        if self._subscription is None:
            self._subscription = await self._bus.subscribe(self._subject, durable=self._durable)
        return self._subscription

    async def process_batch(self, timeout_s: float = 1.0) -> int:
        """Fetch one batch (waiting up to ``timeout_s``) and handle it; returns how many arrived."""
        count, valid = await self._receive(timeout_s)
        await self._store(valid)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Ingest until ``stop`` is set; bus failures are logged and retried after a pause.

        While a batch is being stored (in a thread), the next one is fetched and validated, so the
        database and the bus work at the same time; batches are still stored one at a time, in order.
        """
        logger.info("ingest worker started on %s (durable %s)", self._subject, self._durable)
        ahead: asyncio.Task[tuple[int, list[tuple[Delivery, EventMessage]]]] | None = None
        try:
            while not stop.is_set():
                try:
                    pending, ahead = ahead, None
                    _count, valid = await (pending if pending is not None else self._receive(0.5))
                    if valid:
                        ahead = asyncio.create_task(self._receive(0.5))
                        await self._store(valid)
                except BusError as exc:
                    logger.warning("ingest fetch on %s failed: %s; retrying", self._subject, exc)
                    self._subscription = None
                    await _sleep_or_stop(stop, STORE_RETRY_DELAY_S)
        finally:
            await self._give_back(ahead)
            await self.close()
            logger.info("ingest worker stopped: %s", self.stats)

    async def _receive(self, timeout_s: float) -> tuple[int, list[tuple[Delivery, EventMessage]]]:
        """Fetch a batch and validate it: (messages fetched, the valid ones); invalid ones dead-lettered."""
        subscription = await self._subscribe()
        deliveries = await subscription.fetch(batch=self._batch, timeout_s=timeout_s)
        valid: list[tuple[Delivery, EventMessage]] = []
        for delivery in deliveries:
            self.stats.received += 1
            try:
                message = EventMessage.model_validate_json(delivery.data)
            except ValidationError as exc:
                await self._dead_letter(delivery, describe_validation_error(exc))
                continue
            if await self._refuse_unproven(delivery, message):
                continue
            valid.append((delivery, message))
        return len(deliveries), valid

    async def _refuse_unproven(self, delivery: Delivery, message: EventMessage) -> bool:
        """Dead-letter an event whose signature, center, region, camera or subject do not agree.

        The one place provenance meets the dead-letter path (reason header ``provenance: ...``).
        """
        if self._provenance is None:
            return False
        reason = self._provenance(delivery.subject, delivery.data)
        if reason is None:
            return False
        self.stats.unproven += 1
        await self._dead_letter(
            delivery, f"{PROVENANCE_REASON}: {reason}"[:MAX_ERROR_CHARS], event_id=str(message.event.id)
        )
        return True

    async def _store(self, valid: list[tuple[Delivery, EventMessage]]) -> None:
        """Store a validated batch in one transaction, else one by one (naking the rest on a store error)."""
        if len(valid) > 1 and await self._ingest_batch(valid):
            return
        for i, (delivery, message) in enumerate(valid):
            if not await self._handle(delivery, message):
                for rest, _ in valid[i + 1 :]:
                    await _nak_quietly(rest)
                break

    async def _give_back(
        self, ahead: "asyncio.Task[tuple[int, list[tuple[Delivery, EventMessage]]]] | None"
    ) -> None:
        """At stop: a batch fetched ahead goes back to the consumer at once (no ack-wait delay)."""
        if ahead is None:
            return
        try:
            _count, valid = await ahead
        except (BusError, asyncio.CancelledError):
            return
        for delivery, _ in valid:
            with contextlib.suppress(BusError):
                await delivery.nak()

    async def close(self) -> None:
        """Close the subscription (unacked deliveries return to the durable consumer)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            try:
                await subscription.close()
            except BusError as exc:
                logger.debug("closing subscription on %s: %s", self._subject, exc)

    async def _ingest_batch(self, valid: list[tuple[Delivery, EventMessage]]) -> bool:
        """Store the batch in one transaction and ack it; False (nothing acked) when it failed."""
        self.stats.batches += 1
        try:
            results = await asyncio.to_thread(self._ingest.batch, [m for _, m in valid])
        except Exception as exc:
            self.stats.fallbacks += 1
            logger.warning(
                "batch of %s events (first %s) not stored, retrying one by one: %s",
                len(valid),
                valid[0][1].event.id,
                exc,
            )
            return False
        for (delivery, _), result in zip(valid, results, strict=True):
            await self._count_and_ack(delivery, result)
        return True

    async def _handle(self, delivery: Delivery, message: EventMessage) -> bool:
        """Ingest one message; False when the store failed (the caller naks the rest of the batch)."""
        event_id = message.event.id
        try:
            result = await asyncio.to_thread(self._ingest.event, message)
        except IngestError as exc:
            await self._dead_letter(delivery, str(exc)[:MAX_ERROR_CHARS], event_id=str(event_id))
            return True
        except StoreError as exc:
            self.stats.failed += 1
            logger.warning(
                "event %s (subject %s) not stored, will retry: %s", event_id, delivery.subject, exc
            )
            await _nak_quietly(delivery)
            return False
        except Exception:
            self.stats.failed += 1
            logger.exception("event %s (subject %s) failed unexpectedly; nak", event_id, delivery.subject)
            await _nak_quietly(delivery)
            return True
        await self._count_and_ack(delivery, result)
        return True

    async def _count_and_ack(self, delivery: Delivery, result: IngestResult) -> None:
        if result.duplicate:
            self.stats.duplicates += 1
        else:
            self.stats.ingested += 1
        try:
            await delivery.ack()
        except BusError as exc:
            # Stored but not acked: the bus redelivers it and the hub counts a duplicate.
            self.stats.ack_failures += 1
            logger.warning("event %s stored but ack failed (redelivery expected): %s", result.event_id, exc)

    async def _dead_letter(self, delivery: Delivery, error: str, *, event_id: str = "?") -> None:
        self.stats.invalid += 1
        headers = {ERROR_HEADER: error, ORIGINAL_SUBJECT_HEADER: delivery.subject}
        logger.warning(
            "invalid event %s on %s (msg_id %s) moved to dead letters: %s",
            event_id,
            delivery.subject,
            delivery.msg_id,
            error,
        )
        try:
            await self._bus.publish(dead_letter_subject(INVALID_EVENT_REASON), delivery.data, headers=headers)
        except BusError as exc:
            logger.error("cannot dead-letter message from %s: %s; nak for retry", delivery.subject, exc)
            await delivery.nak(delay_s=STORE_RETRY_DELAY_S)
            return
        await delivery.term()


async def _nak_quietly(delivery: Delivery) -> None:
    try:
        await delivery.nak(delay_s=STORE_RETRY_DELAY_S)
    except BusError as exc:
        logger.warning(
            "nak of %s (msg id %s) failed; ack wait will redeliver: %s",
            delivery.subject,
            delivery.msg_id,
            exc,
        )


async def _sleep_or_stop(stop: asyncio.Event, delay_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=delay_s)
