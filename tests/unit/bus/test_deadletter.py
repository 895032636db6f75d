"""``dead_letter``: the one door to the dead letters; a failed publish never loses the message."""

from collections.abc import Mapping

from hwarang.bus import BusError, MemoryBus
from hwarang.bus.base import PublishAck
from hwarang.bus.deadletter import (
    ERROR_HEADER,
    EVENT_ID_HEADER,
    ORIGINAL_SUBJECT_HEADER,
    dead_letter,
    dead_letter_headers,
)
from hwarang.bus.subjects import DEAD_LETTER_PREFIX, EVENTS_ALL, dead_letter_subject

SUBJECT = "hwarang.events.11.11140.seoul-jung"


class DeadLetterDownBus(MemoryBus):
    """A bus whose dead-letter stream cannot be written."""

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PublishAck:
        if subject.startswith(DEAD_LETTER_PREFIX):
            raise BusError("no stream stores this subject")
        return await super().publish(subject, data, msg_id=msg_id, headers=headers)


async def test_a_delivery_is_moved_with_its_reason_and_terminated() -> None:
    bus = MemoryBus()
    await bus.publish(SUBJECT, b"payload", msg_id="m1")
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    [delivery] = await sub.fetch(batch=1, timeout_s=1.0)
    assert await dead_letter(bus, delivery, "bad_signature", "signature does not verify", event_id="e1")
    assert bus.pending_count("hub") == 0, "terminated: never delivered again"
    dead = await bus.subscribe(dead_letter_subject("bad_signature"), durable="dlq")
    [letter] = await dead.fetch(batch=5, timeout_s=1.0)
    assert letter.data == b"payload"
    assert letter.headers[EVENT_ID_HEADER] == "e1"
    assert dead_letter_headers(letter.headers) == ("signature does not verify", SUBJECT)
    assert letter.headers[ORIGINAL_SUBJECT_HEADER] == SUBJECT and letter.headers[ERROR_HEADER]


async def test_a_failed_dead_letter_publish_naks_the_delivery_for_later() -> None:
    bus = DeadLetterDownBus()
    await bus.publish(SUBJECT, b"payload", msg_id="m1")
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    [delivery] = await sub.fetch(batch=1, timeout_s=1.0)
    assert not await dead_letter(bus, delivery, "invalid_event", "bad json")
    assert bus.pending_count("hub") == 1, "not terminated: the message is still owed"
    [again] = await sub.fetch(batch=1, timeout_s=3.0)
    assert again.data == b"payload" and again.num_delivered == 2
