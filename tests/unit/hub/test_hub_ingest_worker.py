"""IngestWorker with a real MemoryBus: ack, dead letters, redelivery after a store outage."""

import asyncio
import json
import threading
from collections.abc import Callable, Sequence

import pytest

from hwarang.bus import MemoryBus, event_subject
from hwarang.bus.subjects import dead_letter_subject
from hwarang.domain import EventMessage
from hwarang.hub.errors import StoreUnavailableError
from hwarang.hub.fusion import worker as ingest_module
from hwarang.hub.fusion.ingest import IngestResult
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from tests.hub_support import IngestWrapper, make_message

SUBJECT = event_subject("11", "11140", "seoul-jung")
DLQ = dead_letter_subject("invalid_event")


class FlakyService(IngestWrapper):
    """Fails the first ``failures`` ingests with ``error``, then behaves."""

    def __init__(self, inner: HubService, error: Exception, failures: int = 1) -> None:
        super().__init__(inner)
        self._error = error
        self.failures = failures

    on_failure: "Callable[[], object] | None" = None

    def event(self, message: EventMessage) -> IngestResult:
        if self.failures > 0:
            self.failures -= 1
            if self.on_failure is not None:
                self.on_failure()
            raise self._error
        return super().event(message)


@pytest.fixture(autouse=True)
def _fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "STORE_RETRY_DELAY_S", 0.05)
    monkeypatch.setattr(ingest_module, "RETRY_FIRST_S", 0.01)


async def _publish(bus: MemoryBus, message: EventMessage) -> None:
    await bus.publish(SUBJECT, message.model_dump_json().encode(), msg_id=str(message.event.id))


async def test_valid_message_is_ingested_and_acked(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, service.ingest)
    message = make_message()
    await _publish(bus, message)
    assert await worker.process_batch(timeout_s=1.0) == 1
    assert worker.stats.ingested == 1
    assert bus.pending_count("hub-ingest") == 0
    assert await worker.process_batch(timeout_s=0.1) == 0, "an acked message must not come back"
    assert service.incidents.event(message.event.id) == message.event
    assert service.incidents.health()["incidents"] == 1


async def test_duplicate_on_the_bus_is_counted_and_acked(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, service.ingest)
    message = make_message()
    payload = message.model_dump_json().encode()
    await bus.publish(SUBJECT, payload)  # no msg_id: the bus cannot de-duplicate, the hub must
    await bus.publish(SUBJECT, payload)
    assert await worker.process_batch(timeout_s=1.0) == 2
    assert (worker.stats.ingested, worker.stats.duplicates) == (1, 1)
    assert service.incidents.health() == {"events": 1, "incidents": 1, "last_seq": 1}
    assert bus.pending_count("hub-ingest") == 0


async def test_invalid_messages_go_to_dead_letters_and_the_worker_goes_on(service: HubService) -> None:
    bus = MemoryBus()
    dead = await bus.subscribe(DLQ, durable="test-dlq")
    worker = IngestWorker(bus, service.ingest)
    bad_schema = json.loads(make_message().model_dump_json())
    del bad_schema["event"]["camera_id"]
    await bus.publish(SUBJECT, b"{this is not json")
    await bus.publish(SUBJECT, json.dumps(bad_schema).encode())
    good = make_message(track_id=9)
    await _publish(bus, good)

    assert await worker.process_batch(timeout_s=1.0) == 3
    assert (worker.stats.invalid, worker.stats.ingested) == (2, 1)
    letters = await dead.fetch(batch=10, timeout_s=1.0)
    assert [d.data for d in letters] == [b"{this is not json", json.dumps(bad_schema).encode()]
    for letter in letters:
        assert letter.headers["hwarang-original-subject"] == SUBJECT
        await letter.ack()
    assert "json_invalid" in letters[0].headers["hwarang-error"]
    assert "event.camera_id" in letters[1].headers["hwarang-error"]
    assert "missing" in letters[1].headers["hwarang-error"]
    assert bus.pending_count("hub-ingest") == 0, "invalid messages are terminated, not redelivered"
    assert service.incidents.health()["events"] == 1
    assert service.incidents.event(good.event.id) is not None


async def test_store_outage_is_retried_then_stored(service: HubService) -> None:
    bus = MemoryBus()
    flaky = FlakyService(service, StoreUnavailableError("database down"), failures=3)
    seen: list[str] = []
    flaky.on_failure = lambda: seen.append(service.health.level())
    worker = IngestWorker(bus, flaky, health=service.health)
    message = make_message()
    await _publish(bus, message)
    assert await worker.process_batch(timeout_s=1.0) == 1
    assert (worker.stats.failed, worker.stats.store_retries, worker.stats.outages) == (3, 3, 1)
    assert seen == ["ok", "degraded", "degraded"], "health is degraded while the store is down"
    assert service.health.level() == "ok", "and ok once it is back"
    assert worker.stats.ingested == 1
    assert service.incidents.event(message.event.id) == message.event
    assert bus.pending_count("hub-ingest") == 0


async def test_unexpected_error_is_dead_lettered_not_fatal(service: HubService) -> None:
    bus = MemoryBus()
    dead = await bus.subscribe(dead_letter_subject("store_rejected"), durable="test-dlq")
    worker = IngestWorker(bus, FlakyService(service, RuntimeError("bug"), failures=1))
    await _publish(bus, make_message(track_id=1))
    await worker.process_batch(timeout_s=1.0)
    assert worker.stats.rejected == 1
    [letter] = await dead.fetch(batch=5, timeout_s=1.0)
    assert letter.headers["hwarang-error"] == "RuntimeError: bug"
    await _publish(bus, make_message(track_id=2))
    await worker.process_batch(timeout_s=2.0)
    assert worker.stats.ingested == 1


async def test_run_loop_ingests_until_stopped(service: HubService) -> None:
    bus = MemoryBus()
    worker = IngestWorker(bus, service.ingest, batch=2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for i in range(5):
        await _publish(bus, make_message(track_id=i))
    await bus.publish(SUBJECT, b"garbage")
    for _ in range(500):  # received counts a batch fetched ahead too: wait for what was handled
        if worker.stats.ingested + worker.stats.invalid >= 6:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert (worker.stats.ingested, worker.stats.invalid) == (5, 1)
    assert service.incidents.health()["incidents"] == 5


def test_batch_must_be_positive(service: HubService) -> None:
    with pytest.raises(ValueError, match="batch must be at least 1"):
        IngestWorker(MemoryBus(), service.ingest, batch=0)


class RecordingService(IngestWrapper):
    """Records the batches stored."""

    def __init__(self, inner: HubService) -> None:
        super().__init__(inner)
        self.batches: list[list[int]] = []

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        self.batches.append([m.event.track_id for m in messages])
        return super().batch(messages)


async def test_run_stores_batches_in_order_while_fetching_ahead(service: HubService) -> None:
    bus = MemoryBus()
    recording = RecordingService(service)
    worker = IngestWorker(bus, recording, batch=4)
    for i in range(18):
        await _publish(bus, make_message(track_id=i, with_snapshot=False))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if worker.stats.ingested >= 18:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    stored = [track for batch in recording.batches for track in batch]
    assert stored == list(range(18)), "every batch stored, one after the other, in publish order"
    assert [len(batch) for batch in recording.batches] == [4, 4, 4, 4, 2]
    assert worker.stats.ingested == 18 and bus.pending_count("hub-ingest") == 0
    assert service.incidents.health()["incidents"] == 18


async def test_a_batch_fetched_ahead_at_stop_is_given_back_at_once(service: HubService) -> None:
    bus = MemoryBus()
    for i in range(12):
        await _publish(bus, make_message(track_id=i, with_snapshot=False))
    holding = RecordingService(service)
    held, release = threading.Event(), threading.Event()
    inner = holding.batch

    def hold_second(messages: Sequence[EventMessage]) -> list[IngestResult]:
        if len(holding.batches) == 1:
            held.set()
            release.wait(5)
        return inner(messages)

    holding.batch = hold_second  # type: ignore[method-assign]
    first = IngestWorker(bus, holding, batch=4)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    for _ in range(500):
        if held.is_set() and first.stats.received >= 12:
            break
        await asyncio.sleep(0.01)
    assert first.stats.received == 12, "the third batch was fetched while the second was being stored"
    stop.set()
    release.set()
    await asyncio.wait_for(task, timeout=5)
    assert first.stats.ingested == 8
    second = IngestWorker(bus, service.ingest, batch=8)
    assert await second.process_batch(timeout_s=1.0) == 4, "given back at stop, not left to the ack wait"
    assert second.stats.ingested == 4 and service.incidents.health()["events"] == 12
