"""The ingest loop: bus deliveries -> validated EventMessages -> IngestService.batch.

Each fetched batch is stored in one transaction and acked only after the commit. Nothing is lost
silently (see docs/reliability.md):

- **Invalid** messages (schema, NUL bytes, integers beyond 64 bits) go to
  ``hwarang.deadletter.invalid_event`` with the reason and are terminated.
- **The store is unavailable** (connection lost, database down, disk full:
  :class:`~hwarang.hub.errors.StoreUnavailableError`): the loop keeps the batch, tells the bus it
  is still working on it (no redelivery, no ``max_deliver`` spent) and retries the same batch with
  back-off until the store is back; meanwhile the health board says ``degraded`` with the reason.
- **The store refuses a message** (any other error): the batch is split in halves until the one
  message that fails is alone; it goes to ``hwarang.deadletter.store_rejected`` with the error and
  its batch-mates are stored, in order.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from pydantic import ValidationError

from hwarang.bus import Bus, BusError, Delivery, Subscription
from hwarang.bus.deadletter import MAX_ERROR_CHARS, dead_letter
from hwarang.bus.subjects import EVENTS_ALL
from hwarang.domain import EventMessage
from hwarang.hub.errors import StoreUnavailableError
from hwarang.hub.fusion.ingest import IngestResult
from hwarang.hub.store.health import HealthBoard

logger = logging.getLogger(__name__)

INVALID_EVENT_REASON = "invalid_event"
STORE_REJECTED_REASON = "store_rejected"
STORE_CONDITION = "store"
PROVENANCE_REASON = "provenance"
STORE_RETRY_DELAY_S = 1.0
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0
KEEPALIVE_S = 5.0

Received = list[tuple[Delivery, EventMessage]]


@dataclass(slots=True)
class IngestStats:
    """Counters of the ingest loop since start."""

    received: int = 0
    ingested: int = 0
    duplicates: int = 0
    invalid: int = 0
    rejected: int = 0
    failed: int = 0
    batches: int = 0
    fallbacks: int = 0
    ack_failures: int = 0
    unproven: int = 0
    store_retries: int = 0
    outages: int = 0

    @property
    def dead_letters(self) -> int:
        """Messages moved to the dead letters: invalid ones and those the store refused."""
        return self.invalid + self.rejected

    def as_dict(self) -> dict[str, int]:
        """The counters by name, for health reports."""
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
    """Consumes events from ``subject`` through the durable consumer ``durable``.

    ``health`` receives the ``store`` condition while the store is unavailable.
    """

    def __init__(
        self,
        bus: Bus,
        ingest: Ingest,
        *,
        subject: str = EVENTS_ALL,
        durable: str = "hub-ingest",
        batch: int = 64,
        health: HealthBoard | None = None,
        provenance: Callable[[str, bytes], str | None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self._bus = bus
        self._ingest = ingest
        self._subject = subject
        self._durable = durable
        self._batch = batch
        self._health = health if health is not None else HealthBoard()
        self._provenance = provenance
        self._subscription: Subscription | None = None
        self._stop = asyncio.Event()
        self._held: list[Delivery] = []
        self._outage_since: float | None = None
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
        self._stop = stop
        logger.info("ingest worker started on %s (durable %s)", self._subject, self._durable)
        ahead: asyncio.Task[tuple[int, Received]] | None = None
        try:
            while not stop.is_set():
                try:
                    pending, ahead = ahead, None
                    _count, valid = await (pending if pending is not None else self._receive(0.5))
                    if valid:
                        ahead = asyncio.create_task(self._receive(0.5))
                        await self._store(valid, ahead)
                except BusError as exc:
                    logger.warning("ingest fetch on %s failed: %s; retrying", self._subject, exc)
                    self._subscription = None
                    await _sleep_or_stop(stop, STORE_RETRY_DELAY_S)
        finally:
            await self._give_back(ahead)
            await self.close()
            logger.info("ingest worker stopped: %s", self.stats)

    async def _receive(self, timeout_s: float) -> tuple[int, Received]:
        """Fetch a batch and validate it: (messages fetched, the valid ones); invalid ones dead-lettered."""
        subscription = await self._subscribe()
        deliveries = await subscription.fetch(batch=self._batch, timeout_s=timeout_s)
        valid: Received = []
        for delivery in deliveries:
            self.stats.received += 1
            try:
                message = EventMessage.model_validate_json(delivery.data)
            except ValidationError as exc:
                self.stats.invalid += 1
                await dead_letter(self._bus, delivery, INVALID_EVENT_REASON, describe_validation_error(exc))
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
        self.stats.invalid += 1
        self.stats.unproven += 1
        await dead_letter(
            self._bus,
            delivery,
            INVALID_EVENT_REASON,
            f"{PROVENANCE_REASON}: {reason}"[:MAX_ERROR_CHARS],
            event_id=str(message.event.id),
        )
        return True

    async def _store(
        self, valid: Received, ahead: "asyncio.Task[tuple[int, Received]] | None" = None
    ) -> None:
        """Store a validated batch: whole, or split around the messages the store refuses."""
        self._held = [d for d, _ in valid]
        try:
            self.stats.batches += 1
            await self._store_part(valid, ahead)
        finally:
            self._held = []

    async def _store_part(self, part: Received, ahead: "asyncio.Task[tuple[int, Received]] | None") -> bool:
        """Store ``part`` (split around refused messages); False when stopped during an outage."""
        outcome = await self._until_available(part, ahead)
        if outcome is None:
            return False  # stopping during an outage: the part was given back
        if isinstance(outcome, list):
            for (delivery, _), result in zip(part, outcome, strict=True):
                await self._count_and_ack(delivery, result)
            return True
        if len(part) == 1:
            delivery, message = part[0]
            self.stats.rejected += 1
            error = f"{type(outcome).__name__}: {outcome}"[:MAX_ERROR_CHARS]
            event_id = str(message.event.id)
            await dead_letter(self._bus, delivery, STORE_REJECTED_REASON, error, event_id=event_id)
            return True
        self.stats.fallbacks += 1
        logger.warning(
            "batch of %s events (first %s) refused by the store, splitting it: %s",
            len(part),
            part[0][1].event.id,
            outcome,
        )
        middle = len(part) // 2
        if await self._store_part(part[:middle], ahead):
            return await self._store_part(part[middle:], ahead)
        for delivery, _ in part[middle:]:  # stopped: the rest goes back too, in order
            await _nak_quietly(delivery, delay_s=0.0)
        return False

    async def _until_available(
        self, part: Received, ahead: "asyncio.Task[tuple[int, Received]] | None"
    ) -> list[IngestResult] | Exception | None:
        """Store ``part``, retrying while the store is unavailable.

        Returns the results, the error of a store that refused the part, or None when the worker
        stops during an outage (the part is nak'ed back to the bus).
        """
        delay = RETRY_FIRST_S
        last_keepalive = time.monotonic()
        while True:
            try:
                results = await asyncio.to_thread(self._write, [m for _, m in part])
            except StoreUnavailableError as exc:
                self.stats.failed += 1
                self._enter_outage(exc)
            except Exception as exc:
                self._leave_outage()
                return exc
            else:
                self._leave_outage()
                return results
            if self._stop.is_set():  # give the part back now, before the batch fetched ahead
                for delivery, _ in part:
                    await _nak_quietly(delivery, delay_s=0.0)
                return None
            if time.monotonic() - last_keepalive >= KEEPALIVE_S or delay >= RETRY_MAX_S:
                await self._keep_alive(ahead)
                last_keepalive = time.monotonic()
            await _sleep_or_stop(self._stop, delay)
            self.stats.store_retries += 1
            delay = min(RETRY_MAX_S, delay * 2)

    def _write(self, messages: list[EventMessage]) -> list[IngestResult]:
        if len(messages) == 1:
            return [self._ingest.event(messages[0])]
        return self._ingest.batch(messages)

    def _enter_outage(self, exc: StoreUnavailableError) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            self.stats.outages += 1
            logger.warning("store unavailable, ingest paused (retrying with back-off): %s", exc)
        self._health.raise_condition(
            STORE_CONDITION, "degraded", f"store unavailable: {exc}"[:MAX_ERROR_CHARS]
        )

    def _leave_outage(self) -> None:
        if self._outage_since is None:
            return
        logger.info("store back after %.1f s; ingest resumed", time.monotonic() - self._outage_since)
        self._outage_since = None
        self._health.clear(STORE_CONDITION)

    async def _keep_alive(self, ahead: "asyncio.Task[tuple[int, Received]] | None") -> None:
        """Tell the bus the held batch (and one fetched ahead) is still being worked on."""
        held = list(self._held)
        if ahead is not None and ahead.done() and not ahead.cancelled() and ahead.exception() is None:
            held.extend(d for d, _ in ahead.result()[1])
        for delivery in held:
            try:
                await delivery.in_progress()
            except BusError as exc:
                logger.debug("in-progress of %s failed: %s", delivery.subject, exc)

    async def _give_back(self, ahead: "asyncio.Task[tuple[int, Received]] | None") -> None:
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


async def _nak_quietly(delivery: Delivery, *, delay_s: float = STORE_RETRY_DELAY_S) -> None:
    try:
        await delivery.nak(delay_s=delay_s)
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
