"""The bus protocol, shaped after JetStream: acked publish with de-duplication, durable pull consumers."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class BusError(Exception):
    """A bus operation failed (bad subject, closed bus, unreachable server)."""


class BusFullError(BusError):
    """The bus refused a message because it is full of messages still owed to consumers: retry later.

    ``limit`` names the limit hit (``max_msgs``, ``max_bytes``, or the server's words); ``backlog``
    maps each durable consumer holding unacknowledged messages to how many (empty when unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        messages: int = 0,
        size_bytes: int = 0,
        backlog: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.messages = messages
        self.size_bytes = size_bytes
        self.backlog = dict(backlog or {})


@dataclass(frozen=True, slots=True)
class PublishAck:
    """The bus stored the message (``duplicate`` when its msg_id was seen within the window)."""

    stream: str
    seq: int
    duplicate: bool = False


class Delivery(Protocol):
    """One message handed to a consumer; it must be acked, nak'ed or terminated."""

    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def msg_id(self) -> str | None: ...
    @property
    def num_delivered(self) -> int: ...

    async def ack(self) -> None:
        """Processing succeeded; never deliver again."""

    async def nak(self, delay_s: float = 0.0) -> None:
        """Processing failed; deliver again after ``delay_s``."""

    async def term(self) -> None:
        """Never deliver again, without success (use after moving it to a dead-letter subject)."""

    async def in_progress(self) -> None:
        """Still working on it: restart the ack-wait timer so it is not redelivered meanwhile."""


class Subscription(Protocol):
    """A durable pull consumer: remembers its position across fetches and restarts."""

    async def fetch(self, batch: int = 64, timeout_s: float = 1.0) -> list[Delivery]:
        """Up to ``batch`` deliveries; waits up to ``timeout_s`` for the first. Empty list on timeout."""
        ...

    async def close(self) -> None:
        """Stop fetching; unacked deliveries are redelivered to the next consumer of the same durable."""


class Bus(Protocol):
    """Publish and consume messages on dotted subjects with ``*`` and ``>`` wildcards."""

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PublishAck:
        """Store a message; a repeated ``msg_id`` within the de-duplication window is stored once."""
        ...

    async def subscribe(
        self,
        subject_filter: str,
        *,
        durable: str,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
    ) -> Subscription:
        """Open (or resume) the durable consumer ``durable`` over ``subject_filter``."""
        ...

    async def close(self) -> None:
        """Release connections; further calls raise ``BusError``."""
