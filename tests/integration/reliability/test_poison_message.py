"""One event the store refuses among 100 valid ones: the 100 are stored, the one is dead-lettered.

What the store refuses: since validation turns away NUL bytes and oversized values, no valid event
makes PostgreSQL fail by itself any more. So this test installs a trigger in its own fresh schema
that raises on inserting the event whose ``rule_name`` is ``poison`` -- a real error from the real
database, standing in for any value a database rejects. A second, NUL-carrying event shows the
validation side: it is dead-lettered as ``invalid_event`` before it reaches the store.

All 102 messages are on the stream before the hub starts, so they arrive in one batch (256): the
poisoned event fails that batch, which is split until the event is alone.
"""

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from nats_support import bus_config

from hwarang.bus.config import build_bus, connect_nats
from hwarang.bus.deadletter import ERROR_HEADER, EVENT_ID_HEADER, ORIGINAL_SUBJECT_HEADER
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import dead_letter_subject, event_subject
from hwarang.hub.store.db import Database
from tests.hub_support import T0, make_message, pg_schema_url
from tests.integration.hubproc_support import (
    api_port,
    count_events,
    new_hub_process,
    poll,
    stored_events,
    write_hub_config,
)

pytestmark = pytest.mark.integration

VALID = 100
REFUSE_POISON = """
CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
BEGIN
  IF NEW.rule_name = 'poison' THEN
    RAISE EXCEPTION 'poison event refused by the store (test trigger)';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema_url()


def _install_trigger(url: str) -> None:
    database = Database(url)
    try:
        database.migrate()
    finally:
        database.close()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(REFUSE_POISON)


async def test_one_refused_event_is_dead_lettered_and_its_batch_mates_stored(
    tmp_path: Path, pg_url: str, nats_server: NatsServerProcess
) -> None:
    _install_trigger(pg_url)
    messages = [make_message(track_id=i, occurred_at=T0 + timedelta(seconds=i), seed=i) for i in range(VALID)]
    poison = make_message(track_id=999, occurred_at=T0, rule_name="poison", seed=999)
    subject = event_subject("11", "11140", "seoul-jung")
    nul_payload = messages[0].model_dump_json().replace('"fence-north"', '"fence\\u0000north"')
    setup_bus = await build_bus(bus_config(nats_server))  # the hub's streams, before the hub runs
    try:
        for message in [*messages[:50], poison, *messages[50:]]:
            await setup_bus.publish(subject, message.model_dump_json().encode(), msg_id=str(message.event.id))
        await setup_bus.publish(subject, nul_payload.encode(), msg_id="nul-carrier")
    finally:
        await setup_bus.close()

    port = api_port()
    config = write_hub_config(
        tmp_path / "hub.yaml",
        bus=bus_config(nats_server),
        data_dir=tmp_path / "hub",
        database_url=pg_url,
        port=port,
    )
    hub = new_hub_process(tmp_path, "hub", config, port)
    reader = await connect_nats(bus_config(nats_server, manage_streams="none", name="reader"))
    try:
        hub.start()
        await poll(lambda: hub.health() is not None, timeout_s=60.0, interval_s=0.25)
        assert await poll(lambda: count_events(pg_url) >= VALID, timeout_s=60.0), hub.log_tail()
        rejected = await reader.subscribe(dead_letter_subject("store_rejected"), durable="t-rejected")
        letters = await rejected.fetch(batch=10, timeout_s=10.0)
        invalid = await reader.subscribe(dead_letter_subject("invalid_event"), durable="t-invalid")
        refused = await invalid.fetch(batch=10, timeout_s=10.0)
        health = hub.health()
        assert await asyncio.to_thread(hub.terminate) == 0, hub.log_tail()
    finally:
        hub.terminate(5.0)
        await reader.close()

    rows = stored_events(pg_url)
    assert sorted(r.event_id for r in rows) == sorted(str(m.event.id) for m in messages), "the 100, once each"
    assert len(letters) == 1, "the refused event is in the dead letters, once"
    letter = letters[0]
    assert json.loads(letter.data)["event"]["id"] == str(poison.event.id)
    assert letter.headers[EVENT_ID_HEADER] == str(poison.event.id)
    assert letter.headers[ORIGINAL_SUBJECT_HEADER] == subject
    assert "poison event refused by the store" in letter.headers[ERROR_HEADER]
    assert len(refused) == 1 and "U+0000" in refused[0].headers[ERROR_HEADER], "NUL refused at validation"
    assert health is not None and health["status"] == "ok"
    assert health["extra"]["dead_letters"] == 2
    assert health["extra"]["ingest"]["rejected"] == 1 and health["extra"]["ingest"]["invalid"] == 1
