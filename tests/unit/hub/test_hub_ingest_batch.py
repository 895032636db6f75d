"""Batched ingest: IngestService.batch (one transaction) and the IngestWorker's use of it."""

import asyncio
import json
import uuid
from collections.abc import Sequence

import pytest

from hwarang.bus import MemoryBus, event_subject
from hwarang.bus.subjects import dead_letter_subject
from hwarang.domain import EventMessage
from hwarang.hub.errors import ConflictError, IngestError, StoreUnavailableError
from hwarang.hub.fusion import worker as ingest_module
from hwarang.hub.fusion.ingest import IngestResult
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from tests.hub_support import IngestWrapper, make_message, times

SUBJECT = event_subject("11", "11140", "seoul-jung")
DLQ = dead_letter_subject("invalid_event")


class PoisonedService(IngestWrapper):
    """Refuses the snapshot of one event (IngestError), so any batch holding it fails."""

    def __init__(self, inner: HubService, poisoned: uuid.UUID) -> None:
        super().__init__(inner)
        self.poisoned = poisoned
        self.batch_calls = 0
        self.single_calls = 0

    def _store_snapshot(self, message: EventMessage) -> None:
        if message.event.id == self.poisoned:
            raise IngestError(f"event {message.event.id}: snapshot refused")
        super()._store_snapshot(message)

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        self.batch_calls += 1
        return super().batch(messages)

    def event(self, message: EventMessage) -> IngestResult:
        self.single_calls += 1
        return super().event(message)


class BrokenBatchService(IngestWrapper):
    """ingest_many fails with ``error`` on more than one message; single ingests work."""

    def __init__(self, inner: HubService, error: Exception) -> None:
        super().__init__(inner)
        self._error = error

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        if len(messages) > 1:
            raise self._error
        return super().batch(messages)


class DownService(IngestWrapper):
    """Every write fails: the database is down."""

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        raise StoreUnavailableError("database down")

    def event(self, message: EventMessage) -> IngestResult:
        raise StoreUnavailableError("database down")


@pytest.fixture(autouse=True)
def _fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "STORE_RETRY_DELAY_S", 0.05)
    monkeypatch.setattr(ingest_module, "RETRY_FIRST_S", 0.01)
    monkeypatch.setattr(ingest_module, "RETRY_MAX_S", 0.05)


async def _publish(bus: MemoryBus, message: EventMessage) -> None:
    await bus.publish(SUBJECT, message.model_dump_json().encode(), msg_id=str(message.event.id))


def test_ingest_many_stores_in_order_with_consecutive_seqs(service: HubService) -> None:
    messages = [make_message(track_id=i, occurred_at=t, seed=i) for i, t in enumerate(times(5))]
    seen: list[int] = []
    service.journal.add_listener(lambda incident: seen.append(incident.seq))
    results = service.ingest.batch(messages)
    assert [r.event_id for r in results] == [m.event.id for m in messages]
    assert [r.duplicate for r in results] == [False] * 5
    assert [r.incident.seq for r in results if r.incident is not None] == [1, 2, 3, 4, 5]
    assert seen == [1, 2, 3, 4, 5], "listeners hear of each incident after the commit, in order"
    assert service.incidents.health() == {"events": 5, "incidents": 5, "last_seq": 5}
    for message in messages:
        assert service.incidents.event(message.event.id) == message.event
        assert message.event.snapshot is not None
        assert service.evidence.path(message.event.snapshot.sha256) is not None


def test_ingest_many_is_idempotent_within_the_batch_and_against_the_store(service: HubService) -> None:
    a, b, c = (make_message(track_id=i, seed=i) for i in range(3))
    service.ingest.event(a)
    results = service.ingest.batch([a, b, b, c, a])
    assert [r.duplicate for r in results] == [True, False, True, False, True]
    assert results[1].incident is not None and results[3].incident is not None
    assert (results[1].incident.seq, results[3].incident.seq) == (2, 3)
    assert service.incidents.health() == {"events": 3, "incidents": 3, "last_seq": 3}
    assert service.ingest.batch([]) == []


def test_ingest_many_is_all_or_nothing(service: HubService) -> None:
    good, bad = make_message(track_id=1, seed=1), make_message(track_id=2, seed=2)
    poisoned = PoisonedService(service, bad.event.id)
    with pytest.raises(IngestError, match="snapshot refused"):
        poisoned.batch([good, bad])
    assert service.incidents.health()["events"] == 0


def test_ingest_turns_a_concurrent_insert_into_a_duplicate(service: HubService) -> None:
    message = make_message()

    class Racing(IngestWrapper):
        def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
            raise ConflictError("stored concurrently")

    result = Racing(service).event(message)
    assert (result.duplicate, result.incident) == (True, None)


async def test_worker_stores_a_batch_in_one_call_and_acks_after_commit(service: HubService) -> None:
    bus = MemoryBus()
    counting = PoisonedService(service, uuid.uuid4())
    worker = IngestWorker(bus, counting, batch=50)
    messages = [make_message(track_id=i, occurred_at=t, seed=i) for i, t in enumerate(times(20))]
    for message in messages:
        await _publish(bus, message)
    await bus.publish(SUBJECT, messages[3].model_dump_json().encode())  # a re-sent copy, no msg id
    assert await worker.process_batch(timeout_s=1.0) == 21
    assert (counting.batch_calls, counting.single_calls) == (1, 0)
    assert worker.stats.as_dict() == {
        "received": 21,
        "ingested": 20,
        "duplicates": 1,
        "invalid": 0,
        "rejected": 0,
        "failed": 0,
        "batches": 1,
        "fallbacks": 0,
        "ack_failures": 0,
        "store_retries": 0,
        "outages": 0,
        "unproven": 0,
    }
    assert bus.pending_count("hub-ingest") == 0
    stored = service.incidents.events(limit=50)
    assert sorted(e.id for e in stored) == sorted(m.event.id for m in messages)


async def test_one_bad_message_does_not_block_its_batch(service: HubService) -> None:
    bus = MemoryBus()
    dead = await bus.subscribe(dead_letter_subject("store_rejected"), durable="test-dlq")
    messages = [make_message(track_id=i, seed=i) for i in range(6)]
    poisoned = PoisonedService(service, messages[2].event.id)
    worker = IngestWorker(bus, poisoned, batch=10)
    for message in messages:
        await _publish(bus, message)
    assert await worker.process_batch(timeout_s=1.0) == 6
    assert (worker.stats.ingested, worker.stats.rejected, worker.stats.dead_letters) == (5, 1, 1)
    # 6 -> 3 + 3 (stored); 3 -> 1 (stored) + 2; 2 -> 1 (stored) + 1 (refused): three splits
    assert worker.stats.fallbacks == 3
    assert poisoned.single_calls == 3, "the batch is split in halves, not retried one by one"
    letters = await dead.fetch(batch=5, timeout_s=1.0)
    assert len(letters) == 1
    assert json.loads(letters[0].data)["event"]["id"] == str(messages[2].event.id)
    assert "snapshot refused" in letters[0].headers["hwarang-error"]
    assert bus.pending_count("hub-ingest") == 0
    assert service.incidents.health()["events"] == 5


async def test_a_failed_batch_is_split_until_it_stores(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, BrokenBatchService(service, RuntimeError("bug in batch path")), batch=10)
    messages = [make_message(track_id=i, seed=i) for i in range(4)]
    for message in messages:
        await _publish(bus, message)
    await worker.process_batch(timeout_s=1.0)
    assert (worker.stats.fallbacks, worker.stats.ingested) == (3, 4)
    assert service.incidents.health()["events"] == 4


async def test_store_down_pauses_ingest_and_a_stop_gives_the_batch_back(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, DownService(service), batch=10, health=service.health)
    for i in range(5):
        await _publish(bus, make_message(track_id=i, seed=i))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if worker.stats.store_retries >= 3:
            break
        await asyncio.sleep(0.01)
    assert worker.stats.store_retries >= 3, "the same batch is retried while the store is down"
    assert service.health.level() == "degraded"
    assert "database down" in service.health.conditions()[0].reason
    assert (worker.stats.ingested, worker.stats.dead_letters, worker.stats.outages) == (0, 0, 1)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert bus.pending_count("hub-ingest") == 5, "nothing acked, nothing dropped"
    healthy = IngestWorker(bus, service.ingest, batch=10)
    total = 0
    for _ in range(20):
        total += await healthy.process_batch(timeout_s=0.5)
        if total >= 5:
            break
    assert healthy.stats.ingested == 5
    assert bus.pending_count("hub-ingest") == 0


class RefusedThenDownService(IngestWrapper):
    """A batch is refused (so it is split), then the store goes down for every single write."""

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        raise IngestError("refused")

    def event(self, message: EventMessage) -> IngestResult:
        raise StoreUnavailableError("database down")


async def test_a_stop_during_an_outage_mid_split_gives_every_message_back(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, RefusedThenDownService(service), batch=10)
    for i in range(4):
        await _publish(bus, make_message(track_id=i, seed=i))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if worker.stats.store_retries >= 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert (worker.stats.ingested, worker.stats.dead_letters) == (0, 0)
    assert bus.pending_count("hub-ingest") == 4, "all four given back, none dead-lettered or dropped"
    healthy = IngestWorker(bus, service.ingest, batch=10)
    assert await healthy.process_batch(timeout_s=2.0) == 4
    assert [e.track_id for e in sorted(service.incidents.events(limit=10), key=lambda e: e.track_id)] == [
        0,
        1,
        2,
        3,
    ]


def test_ingesting_events_logs_nothing_at_info(service: HubService, caplog: pytest.LogCaptureFixture) -> None:
    """One line per event at INFO would scroll the demo's first-start admin password away."""
    messages = [make_message(seed=i, occurred_at=at) for i, at in enumerate(times(3))]
    with caplog.at_level("DEBUG", logger="hwarang"):
        results = service.ingest.batch(messages)
    assert len(results) == 3
    assert [r for r in caplog.records if r.levelname == "DEBUG" and "events ingested" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= 20 and r.name.startswith("hwarang.hub")]
