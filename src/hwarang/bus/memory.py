"""In-memory bus for the embedded deployment: one retained stream, de-duplication, durable consumers."""

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from hwarang.bus.base import BusError, Delivery, PublishAck
from hwarang.bus.deadletter import ERROR_HEADER, MAX_DELIVERIES_REASON, ORIGINAL_SUBJECT_HEADER
from hwarang.bus.subjects import dead_letter_subject, subject_matches, validate_subject

STREAM_NAME = "HWARANG"


@dataclass(frozen=True, slots=True)
class _Stored:
    seq: int
    subject: str
    data: bytes
    headers: Mapping[str, str]
    msg_id: str | None


@dataclass(slots=True)
class _Pending:
    deadline: float
    num_delivered: int


@dataclass(slots=True)
class _Consumer:
    subject_filter: str
    ack_wait_s: float
    max_deliver: int
    next_seq: int = 1
    pending: dict[int, _Pending] = field(default_factory=dict)
    dropped_max_deliver: int = 0


class _MemoryDelivery:
    def __init__(self, bus: "MemoryBus", consumer: _Consumer, stored: _Stored, num_delivered: int) -> None:
        self._bus = bus
        self._consumer = consumer
        self._stored = stored
        self._num_delivered = num_delivered
        self._done = False

    @property
    def subject(self) -> str:
        return self._stored.subject

    @property
    def data(self) -> bytes:
        return self._stored.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self._stored.headers

    @property
    def msg_id(self) -> str | None:
        return self._stored.msg_id

    @property
    def num_delivered(self) -> int:
        return self._num_delivered

    async def ack(self) -> None:
        self._finish()

    async def term(self) -> None:
        self._finish()

    async def nak(self, delay_s: float = 0.0) -> None:
        if self._done:
            return
        self._done = True
        pending = self._consumer.pending.get(self._stored.seq)
        if pending is not None:
            pending.deadline = time.monotonic() + delay_s
        await self._bus._notify()

    async def in_progress(self) -> None:
        pending = None if self._done else self._consumer.pending.get(self._stored.seq)
        if pending is not None:
            pending.deadline = time.monotonic() + self._consumer.ack_wait_s

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._consumer.pending.pop(self._stored.seq, None)


class _MemorySubscription:
    def __init__(self, bus: "MemoryBus", consumer: _Consumer) -> None:
        self._bus = bus
        self._consumer = consumer
        self._closed = False

    async def fetch(self, batch: int = 64, timeout_s: float = 1.0) -> list[Delivery]:
        if self._closed:
            raise BusError("subscription is closed")
        deadline = time.monotonic() + timeout_s
        while True:
            out = self._bus._take(self._consumer, batch)
            if out:
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._bus._wait(min(remaining, self._bus._next_redelivery(self._consumer)))

    async def close(self) -> None:
        self._closed = True


class MemoryBus:
    """A single-process bus with JetStream semantics: acked publish, de-duplication, redelivery.

    ``max_msgs`` and ``max_bytes`` bound memory: the oldest messages are discarded first (as a JetStream
    limits stream).
    """

    def __init__(
        self, *, max_msgs: int = 200_000, max_bytes: int = 512 * 1024**2, duplicate_window_s: float = 120.0
    ) -> None:
        self._max_msgs = max_msgs
        self._max_bytes = max_bytes
        self._bytes = 0
        self._dup_window_s = duplicate_window_s
        self._messages: OrderedDict[int, _Stored] = OrderedDict()
        self._msg_ids: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._consumers: dict[str, _Consumer] = {}
        self._last_seq = 0
        self._cond: asyncio.Condition | None = None
        self._closed = False

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest stored message."""
        return self._last_seq

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PublishAck:
        if self._closed:
            raise BusError("bus is closed")
        validate_subject(subject, allow_wildcards=False)
        now = time.monotonic()
        self._expire_msg_ids(now)
        if msg_id is not None and msg_id in self._msg_ids:
            return PublishAck(STREAM_NAME, self._msg_ids[msg_id][0], duplicate=True)
        stored = self._store(subject, bytes(data), dict(headers or {}), msg_id, now)
        await self._notify()
        return PublishAck(STREAM_NAME, stored.seq)

    def _store(
        self, subject: str, data: bytes, headers: dict[str, str], msg_id: str | None, now: float
    ) -> _Stored:
        self._last_seq += 1
        stored = _Stored(self._last_seq, subject, data, headers, msg_id)
        self._messages[stored.seq] = stored
        self._bytes += len(stored.data)
        if msg_id is not None:
            self._msg_ids[msg_id] = (stored.seq, now)
        while len(self._messages) > self._max_msgs or (
            self._bytes > self._max_bytes and len(self._messages) > 1
        ):
            _, dropped = self._messages.popitem(last=False)
            self._bytes -= len(dropped.data)
        return stored

    def _dead_letter_exhausted(self, stored: _Stored, consumer: _Consumer, now: float) -> None:
        """Like JetStream's max-deliveries advisory, handled: the message moves to the dead letters."""
        headers = {
            ERROR_HEADER: f"not acked after {consumer.max_deliver} deliveries (consumer gave up)",
            ORIGINAL_SUBJECT_HEADER: stored.subject,
        }
        self._store(dead_letter_subject(MAX_DELIVERIES_REASON), stored.data, headers, None, now)

    async def subscribe(
        self,
        subject_filter: str,
        *,
        durable: str,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
    ) -> _MemorySubscription:
        if self._closed:
            raise BusError("bus is closed")
        validate_subject(subject_filter, allow_wildcards=True)
        consumer = self._consumers.get(durable)
        if consumer is None:
            consumer = _Consumer(subject_filter, ack_wait_s, max_deliver)
            self._consumers[durable] = consumer
        elif consumer.subject_filter != subject_filter:
            raise BusError(
                f"durable {durable!r} already filters {consumer.subject_filter!r}, not {subject_filter!r}"
            )
        return _MemorySubscription(self, consumer)

    async def close(self) -> None:
        self._closed = True
        await self._notify()

    def pending_count(self, durable: str) -> int:
        """Messages delivered to ``durable`` and not yet acked (for health and tests)."""
        consumer = self._consumers.get(durable)
        return 0 if consumer is None else len(consumer.pending)

    def _expire_msg_ids(self, now: float) -> None:
        while self._msg_ids:
            _, (_, stamp) = next(iter(self._msg_ids.items()))
            if now - stamp <= self._dup_window_s:
                break
            self._msg_ids.popitem(last=False)

    def _take(self, consumer: _Consumer, batch: int) -> list[Delivery]:
        now = time.monotonic()
        out: list[Delivery] = []
        for seq, pending in sorted(consumer.pending.items()):
            if len(out) >= batch:
                return out
            if pending.deadline > now:
                continue
            stored = self._messages.get(seq)
            if stored is None or pending.num_delivered >= consumer.max_deliver:
                consumer.pending.pop(seq)
                if stored is not None:
                    consumer.dropped_max_deliver += 1
                    self._dead_letter_exhausted(stored, consumer, now)
                continue
            pending.num_delivered += 1
            pending.deadline = now + consumer.ack_wait_s
            out.append(_MemoryDelivery(self, consumer, stored, pending.num_delivered))
        while len(out) < batch and consumer.next_seq <= self._last_seq:
            seq = consumer.next_seq
            consumer.next_seq += 1
            stored = self._messages.get(seq)
            if stored is None or not subject_matches(consumer.subject_filter, stored.subject):
                continue
            consumer.pending[seq] = _Pending(now + consumer.ack_wait_s, 1)
            out.append(_MemoryDelivery(self, consumer, stored, 1))
        return out

    def _next_redelivery(self, consumer: _Consumer) -> float:
        if not consumer.pending:
            return 3600.0
        soonest = min(p.deadline for p in consumer.pending.values())
        return max(0.001, soonest - time.monotonic())

    async def _notify(self) -> None:
        cond = self._condition()
        async with cond:
            cond.notify_all()

    async def _wait(self, timeout_s: float) -> None:
        cond = self._condition()
        async with cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cond.wait(), timeout=timeout_s)
        if self._closed:
            raise BusError("bus is closed")
