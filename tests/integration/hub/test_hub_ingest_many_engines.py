"""IngestService.batch on SQLite and PostgreSQL: one transaction, idempotent, seq in batch order."""

import pytest

from hwarang.hub.service import HubService
from tests.hub_support import make_message, times

pytestmark = pytest.mark.integration


def test_batches_are_idempotent_and_ordered_on_each_engine(engine_service: HubService) -> None:
    messages = [make_message(track_id=i, occurred_at=t, seed=i) for i, t in enumerate(times(300))]
    first = engine_service.ingest.batch(messages[:200])
    assert [r.incident.seq for r in first if r.incident is not None] == list(range(1, 201))
    again = engine_service.ingest.batch(messages[150:] + messages[150:160])
    assert [r.duplicate for r in again] == [True] * 50 + [False] * 100 + [True] * 10
    assert [r.incident.seq for r in again if r.incident is not None] == list(range(201, 301))
    assert engine_service.incidents.health() == {"events": 300, "incidents": 300, "last_seq": 300}
    stored = engine_service.incidents.events(limit=300)
    assert {e.id for e in stored} == {m.event.id for m in messages}
    assert engine_service.incidents.event(messages[42].event.id) == messages[42].event
    incident = engine_service.incidents.recent(limit=1)[0]
    assert incident.seq == 300 and incident.event_ids == (messages[-1].event.id,)
    audit = engine_service.audit.entries(limit=5)
    assert [a.action for a in audit] == ["incident.create"] * 5
    assert audit[0].detail["seq"] == 300
