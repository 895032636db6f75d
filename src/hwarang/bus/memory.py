"""In-memory bus for the embedded deployment: one retained stream, de-duplication, durable consumers.

Bounded by ``max_msgs`` and ``max_bytes``, and never losing a message a consumer is owed: when a
new message does not fit, the oldest messages that every matching durable consumer has acked are
removed first, then the oldest that no consumer subscribes to (as a JetStream limits stream would,
counted in ``evicted_unconsumed`` and logged). A message still owed to a consumer (not yet
fetched, or fetched and not acked) is never removed: when only such messages are left, ``publish``
raises ``BusFullError`` (the publisher retries; health shows the bus ``degraded``) until acks free
room. A consumer created later is owed every stored message its filter matches.
"""

import asyncio
import contextlib
import functools
import heapq
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hwarang.bus.base import BusError, BusFullError, Delivery, PublishAck
from hwarang.bus.deadletter import ERROR_HEADER, MAX_DELIVERIES_REASON, ORIGINAL_SUBJECT_HEADER
from hwarang.bus.subjects import dead_letter_subject, subject_matches, validate_subject

logger = logging.getLogger(__name__)

STREAM_NAME = "HWARANG"

FullWatcher = Callable[[str | None], None]
"""Called with the reason on each publish refused as full, and with ``None`` once there is room again."""


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
    owed: int = 0
    """Stored messages this consumer's filter matches that it has not acked, termed or given up."""


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
            if self._consumer.pending.pop(self._stored.seq, None) is not None:
                self._bus._release(self._consumer, self._stored.seq)


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

    ``max_msgs`` and ``max_bytes`` bound memory without dropping what a consumer is owed (see the
    module's docstring): a full bus refuses a publish with ``BusFullError``.
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
        self._owed: dict[int, int] = {}  # seq -> consumers that have not acked it (absent: none)
        self._acked: list[int] = []  # heap of seqs every consumer is done with (may hold stale seqs)
        self._unowned: list[int] = []  # heap of seqs no consumer matched when stored (may be stale)
        self._last_seq = 0
        self._cond: asyncio.Condition | None = None
        self._closed = False
        self._full_reason: str | None = None
        self._full_watchers: list[FullWatcher] = []
        self.refused_full = 0
        self.evicted_acked = 0
        self.evicted_unconsumed = 0

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest stored message."""
        return self._last_seq

    @property
    def full_reason(self) -> str | None:
        """Why the last publish was refused, while the bus has no room; None otherwise."""
        return self._full_reason

    def watch_full(self, watcher: FullWatcher) -> None:
        """Call ``watcher(reason)`` on each refusal as full, ``watcher(None)`` when there is room again."""
        self._full_watchers.append(watcher)

    def stats(self) -> dict[str, object]:
        """Fill and counters for health: ``degraded`` holds the reason while publishes are refused."""
        return {
            "type": "memory",
            "messages": len(self._messages),
            "bytes": self._bytes,
            "max_msgs": self._max_msgs,
            "max_bytes": self._max_bytes,
            "refused_full": self.refused_full,
            "evicted_acked": self.evicted_acked,
            "evicted_unconsumed": self.evicted_unconsumed,
            "dead_lettered_max_deliver": sum(c.dropped_max_deliver for c in self._consumers.values()),
            "backlog": self._backlog(),
            "degraded": self._full_reason,
        }

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
        """Store a message; ``BusFullError`` when only messages still owed to consumers fill the bus."""
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
        self,
        subject: str,
        data: bytes,
        headers: dict[str, str],
        msg_id: str | None,
        now: float,
        *,
        over_limit: bool = False,
    ) -> _Stored:
        """Store after making room; ``over_limit`` stores even when no room can be made."""
        self._make_room(len(data))
        if not over_limit and not self._fits(len(data)):
            raise self._refuse(len(data))
        self._last_seq += 1
        stored = _Stored(self._last_seq, subject, data, headers, msg_id)
        self._messages[stored.seq] = stored
        self._bytes += len(stored.data)
        if msg_id is not None:
            self._msg_ids[msg_id] = (stored.seq, now)
        owers = [c for c in self._consumers.values() if _matches(c.subject_filter, subject)]
        for consumer in owers:
            consumer.owed += 1
        if owers:
            self._owed[stored.seq] = len(owers)
        else:
            heapq.heappush(self._unowned, stored.seq)
        self._set_full(None)
        return stored

    def _fits(self, size: int) -> bool:
        if not self._messages:
            return True  # an empty bus takes one message of any size, as before
        return len(self._messages) < self._max_msgs and self._bytes + size <= self._max_bytes

    def _make_room(self, size: int) -> None:
        """Remove the oldest acked, then the oldest unconsumed, messages until ``size`` more fits."""
        while not self._fits(size):
            seq = self._pop_evictable(self._acked)
            if seq is not None:
                self.evicted_acked += 1
            else:
                seq = self._pop_evictable(self._unowned)
                if seq is None:
                    return
                self.evicted_unconsumed += 1
                if _is_power_of_ten(self.evicted_unconsumed):
                    logger.warning(
                        "memory bus full: %d messages no consumer subscribes to removed so far "
                        "(oldest first; this one on %s)",
                        self.evicted_unconsumed,
                        self._messages[seq].subject,
                    )
            self._bytes -= len(self._messages.pop(seq).data)

    def _pop_evictable(self, heap: list[int]) -> int | None:
        while heap:
            seq = heapq.heappop(heap)
            if seq in self._messages and seq not in self._owed:
                return seq
        return None

    def _refuse(self, size: int) -> BusFullError:
        limit = "max_msgs" if len(self._messages) >= self._max_msgs else "max_bytes"
        backlog = self._backlog()
        holders = ", ".join(f"{name} ({count} unacked)" for name, count in backlog.items())
        reason = (
            f"memory bus full ({limit}): {len(self._messages)} messages, {self._bytes} bytes stored "
            f"(max_msgs {self._max_msgs}, max_bytes {self._max_bytes}; a {size}-byte message refused); "
            f"every stored message is still owed to a consumer: {holders or 'none'}"
        )
        self.refused_full += 1
        self._set_full(reason)
        return BusFullError(
            reason, limit=limit, messages=len(self._messages), size_bytes=self._bytes, backlog=backlog
        )

    def _backlog(self) -> dict[str, int]:
        owing = [(name, c.owed) for name, c in self._consumers.items() if c.owed > 0]
        return dict(sorted(owing, key=lambda item: (-item[1], item[0])))

    def _release(self, consumer: _Consumer, seq: int) -> None:
        """``consumer`` is done with ``seq`` (acked, termed or given up)."""
        consumer.owed = max(0, consumer.owed - 1)
        left = self._owed.pop(seq, 0) - 1
        if left > 0:
            self._owed[seq] = left
        elif seq in self._messages:
            heapq.heappush(self._acked, seq)
            self._set_full(None)

    def _set_full(self, reason: str | None) -> None:
        if reason == self._full_reason:
            return
        was_full = self._full_reason is not None
        self._full_reason = reason
        if reason is not None and not was_full:
            logger.warning("%s; publishers retry until consumers ack", reason)
        elif reason is None:
            logger.info("memory bus has room again after %d refused publishes", self.refused_full)
        for watcher in self._full_watchers:
            watcher(reason)

    def _dead_letter_exhausted(self, stored: _Stored, consumer: _Consumer, now: float) -> None:
        """Like JetStream's max-deliveries advisory, handled: the message moves to the dead letters.

        Stored even on a full bus: it takes the place of the message given up on.
        """
        headers = {
            ERROR_HEADER: f"not acked after {consumer.max_deliver} deliveries (consumer gave up)",
            ORIGINAL_SUBJECT_HEADER: stored.subject,
        }
        self._store(
            dead_letter_subject(MAX_DELIVERIES_REASON), stored.data, headers, None, now, over_limit=True
        )

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
            self._owe_stored(consumer)
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

    def _owe_stored(self, consumer: _Consumer) -> None:
        """A new consumer delivers everything stored (deliver-all): it is owed each message it matches."""
        for seq, stored in self._messages.items():
            if _matches(consumer.subject_filter, stored.subject):
                self._owed[seq] = self._owed.get(seq, 0) + 1
                consumer.owed += 1

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
                self._release(consumer, seq)
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
            if stored is None or not _matches(consumer.subject_filter, stored.subject):
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


def _is_power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


@functools.lru_cache(maxsize=4096)
def _matches(subject_filter: str, subject: str) -> bool:
    """``subject_matches``, remembered: a site publishes on few subjects, many times each."""
    return subject_matches(subject_filter, subject)
