"""Clips at the hub: chunks assembled in any order, verified, stored once, linked to events, bounded."""

import asyncio
import hashlib
import os
from datetime import timedelta

import pytest

from hwarang.bus.clipwire import split_clip
from hwarang.bus.memory import MemoryBus
from hwarang.bus.subjects import clip_subject
from hwarang.domain import ClipManifest, ClipRef, EventMessage
from hwarang.hub.errors import IngestError
from hwarang.hub.evidence.clip_worker import ClipWorker
from hwarang.hub.evidence.clips import ChunkOutcome, ClipIntake
from hwarang.hub.service import HubService
from hwarang.hub.store.models import AuditRow, EventRow
from tests.hub_support import T0, make_message


def _clip(seed: int, size: int = 40_000) -> tuple[bytes, ClipRef]:
    data = hashlib.sha256(str(seed).encode()).digest() * (size // 32)
    ref = ClipRef(
        sha256=hashlib.sha256(data).hexdigest(),
        start=T0,
        end=T0 + timedelta(seconds=15),
        duration_s=15.0,
        width=640,
        height=480,
        size=len(data),
    )
    return data, ref


def _manifest(ref: ClipRef, *messages: EventMessage) -> str:
    first = messages[0].event
    return ClipManifest(
        camera_id=first.camera_id,
        center_id=first.center_id,
        event_ids=[m.event.id for m in messages],
        clip=ref,
    ).model_dump_json()


def _payload_clip(service: HubService, message: EventMessage) -> object:
    with service.database.session() as session:
        row = session.get(EventRow, message.event.id)
        assert row is not None
        return row.payload.get("clip")


def test_chunks_in_any_order_make_one_verified_clip_linked_to_its_events(service: HubService) -> None:
    first, second = make_message(track_id=1), make_message(track_id=2)
    service.ingest.event(first)
    service.ingest.event(second)
    data, ref = _clip(1)
    chunks = list(split_clip(ref.sha256, data, _manifest(ref, first, second), chunk_bytes=10_000))
    assert len(chunks) == 4
    outcomes = [
        service.clips.chunk(c.sha256, c.part, c.parts, c.manifest_json, c.data).outcome for c in chunks[::-1]
    ]
    assert outcomes == [ChunkOutcome.PARTIAL] * 3 + [ChunkOutcome.STORED]
    assert service.clips.store.get(ref.sha256) == data
    assert _payload_clip(service, first) == ref.model_dump(mode="json")
    assert _payload_clip(service, second) == ref.model_dump(mode="json")
    again = chunks[0]
    result = service.clips.chunk(again.sha256, again.part, again.parts, again.manifest_json, again.data)
    assert result.outcome is ChunkOutcome.DUPLICATE and result.missing_events == ()
    with service.database.session() as session:
        audits = session.query(AuditRow).filter(AuditRow.action == "evidence.clip").all()
    assert sorted(a.target for a in audits) == sorted(f"event:{m.event.id}" for m in (first, second))


def test_a_clip_that_does_not_hash_to_its_name_is_refused(service: HubService) -> None:
    message = make_message()
    data, ref = _clip(2)
    manifest = _manifest(ref, message)
    with pytest.raises(IngestError, match="hash to"):
        service.clips.chunk(ref.sha256, 0, 1, manifest, data[:-1] + b"!")
    assert not service.clips.store.has(ref.sha256)
    with pytest.raises(IngestError, match="manifest"):
        service.clips.chunk(ref.sha256, 0, 1, "{}", data)
    with pytest.raises(IngestError, match="out of range"):
        service.clips.chunk(ref.sha256, 3, 2, manifest, data)


def test_events_not_yet_at_the_hub_are_reported_missing(service: HubService) -> None:
    message = make_message()
    data, ref = _clip(3)
    result = service.clips.chunk(ref.sha256, 0, 1, _manifest(ref, message), data)
    assert result.outcome is ChunkOutcome.STORED and result.missing_events == (message.event.id,)
    service.ingest.event(message)
    assert service.clips.link(ClipManifest.model_validate_json(_manifest(ref, message))) == ()
    assert _payload_clip(service, message) is not None


def test_retention_deletes_old_clips_then_the_oldest_over_the_size_bound(service: HubService) -> None:
    intake = ClipIntake(service.database, service.evidence, max_bytes=100_000, max_age_s=3600)
    stored = []
    for seed in range(4):
        data, _ = _clip(10 + seed)
        sha = intake.store.put(data)
        path = intake.store.path(sha)
        assert path is not None
        os.utime(path, (1000.0 + seed, 1000.0 + seed))
        stored.append(sha)
    assert intake.prune(now=1000.0 + 10) == 2  # 4 x 40 kB over 100 kB: the two oldest go
    assert [intake.store.has(s) for s in stored] == [False, False, True, True]
    assert intake.prune(now=1000.0 + 7200) == 2  # past max_age
    assert intake.pruned == 4


async def test_the_worker_waits_for_late_events_and_dead_letters_bad_chunks(service: HubService) -> None:
    bus = MemoryBus()
    worker = ClipWorker(bus, service.clips)
    message = make_message()
    data, ref = _clip(4)
    subject = clip_subject("11", "11140", "seoul-jung")
    for chunk in split_clip(ref.sha256, data, _manifest(ref, message), chunk_bytes=16_000):
        await bus.publish(subject, chunk.data, msg_id=chunk.msg_id, headers=chunk.headers())
    await bus.publish(subject, b"junk", msg_id="junk", headers={"hwarang-clip-sha256": ref.sha256})
    while await worker.process(0.1):
        pass
    assert worker.stats.clips == 1 and worker.stats.invalid == 1
    assert worker.stats.waiting_for_events == 1  # the event has not arrived: the last chunk is nak'ed
    service.ingest.event(message)
    deadline = asyncio.get_running_loop().time() + 10
    while _payload_clip(service, message) is None and asyncio.get_running_loop().time() < deadline:
        await worker.process(0.5)
    assert _payload_clip(service, message) == ref.model_dump(mode="json")
    assert worker.stats.duplicates >= 1
    await worker.close()
