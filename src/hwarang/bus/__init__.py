"""The event bus: one ``Bus`` protocol, an in-memory backend (embedded) and, later, NATS JetStream."""

from hwarang.bus.base import Bus, BusError, BusFullError, Delivery, PublishAck, Subscription
from hwarang.bus.memory import MemoryBus
from hwarang.bus.subjects import DEAD_LETTER_PREFIX, EVENTS_ALL, event_subject

__all__ = [
    "DEAD_LETTER_PREFIX",
    "EVENTS_ALL",
    "Bus",
    "BusError",
    "BusFullError",
    "Delivery",
    "MemoryBus",
    "PublishAck",
    "Subscription",
    "event_subject",
]
