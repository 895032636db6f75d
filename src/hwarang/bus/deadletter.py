"""Dead letters: messages the hub will not store, kept on ``hwarang.deadletter.<reason>`` with why.

Every part that gives a message up calls :func:`dead_letter` (the ingest loop for invalid events
and events the store refuses; signature checks for events that fail verification), so a dead letter
always carries the same headers and is never dropped: when the dead-letter publish itself fails,
the delivery is nak'ed and comes back later.

Headers of a dead letter: ``hwarang-error`` (the reason in words), ``hwarang-original-subject``
and, when known, ``hwarang-event-id``. The reason token in the subject is a short code
(``invalid_event``, ``store_rejected``, ``max_deliveries``, ...).
"""

import logging
from collections.abc import Mapping

from hwarang.bus.base import Bus, BusError, Delivery, PublishAck
from hwarang.bus.subjects import dead_letter_subject

logger = logging.getLogger(__name__)

ERROR_HEADER = "hwarang-error"
ORIGINAL_SUBJECT_HEADER = "hwarang-original-subject"
EVENT_ID_HEADER = "hwarang-event-id"
MAX_DELIVERIES_REASON = "max_deliveries"
MAX_ERROR_CHARS = 300
RETRY_DELAY_S = 1.0


async def publish_dead_letter(
    bus: Bus,
    reason: str,
    data: bytes,
    *,
    error: str,
    subject: str,
    event_id: str | None = None,
    msg_id: str | None = None,
) -> PublishAck:
    """Publish ``data`` to ``hwarang.deadletter.<reason>`` with the error headers; BusError on failure.

    ``msg_id`` (e.g. the original message id) makes a repeated dead-lettering store it once.
    """
    headers: dict[str, str] = {
        ERROR_HEADER: error[:MAX_ERROR_CHARS],
        ORIGINAL_SUBJECT_HEADER: subject,
    }
    if event_id is not None:
        headers[EVENT_ID_HEADER] = event_id
    dl_msg_id = f"dl:{reason}:{msg_id}" if msg_id else None
    return await bus.publish(dead_letter_subject(reason), data, msg_id=dl_msg_id, headers=headers)


async def dead_letter(
    bus: Bus, delivery: Delivery, reason: str, error: str, *, event_id: str | None = None
) -> bool:
    """Move ``delivery`` to the dead letters with ``error`` and terminate it; True when done.

    False when the dead-letter publish failed: the delivery is then nak'ed (retried later), so a
    message is never dropped on the way to the dead letters.
    """
    logger.warning(
        "message on %s (msg id %s, event %s) dead-lettered as %s: %s",
        delivery.subject,
        delivery.msg_id,
        event_id or "?",
        reason,
        error,
    )
    try:
        await publish_dead_letter(
            bus,
            reason,
            delivery.data,
            error=error,
            subject=delivery.subject,
            event_id=event_id,
            msg_id=delivery.msg_id,
        )
    except BusError as exc:
        logger.error("cannot dead-letter message from %s: %s; nak for retry", delivery.subject, exc)
        try:
            await delivery.nak(delay_s=RETRY_DELAY_S)
        except BusError as nak_exc:
            logger.warning("nak of %s failed; ack wait will redeliver: %s", delivery.subject, nak_exc)
        return False
    try:
        await delivery.term()
    except BusError as exc:
        logger.warning(
            "term of dead-lettered %s failed (may be dead-lettered again): %s", delivery.subject, exc
        )
    return True


def dead_letter_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(error, original subject)`` of a dead letter's headers."""
    return headers.get(ERROR_HEADER), headers.get(ORIGINAL_SUBJECT_HEADER)
