"""Receive OpenDroneID (Remote ID) broadcasts relayed over UDP and turn them into per-drone states.

A datagram carries one 25-byte message, one Message Pack, or a concatenation of both (as a Wi-Fi or
Bluetooth sniffer relays them). Each datagram is decoded on its own; bad messages are counted and
skipped, the rest of the datagram is still used, and nothing a sender does stops the receiver.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hwarang.interop.opendroneid import BasicId, RemoteIdDecodeError, decode_stream, flatten
from hwarang.interop.remote_id_state import RemoteIdAssembler, RemoteIdState

logger = logging.getLogger(__name__)

StateCallback = Callable[[RemoteIdState], object]
"""Called with every new state, in the event loop: it must not block (put it on a queue instead)."""


class RemoteIdUdpConfig(BaseModel):
    """Where the Remote ID UDP receiver listens and how it tells senders apart."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        default="127.0.0.1", description="Address to bind; 0.0.0.0 to accept relays on the LAN."
    )
    port: int = Field(
        default=14_600,
        ge=0,
        le=65_535,
        description="UDP port to bind (0 picks a free one; no standard port).",
    )
    key_by: Literal["address", "uas_id"] = Field(
        default="address",
        description=(
            "How messages are grouped per drone: by the relay's source address (one drone per relay), or "
            "by the Basic ID's UAS ID (a relay forwarding several drones; ID-less datagrams go to the "
            "last UAS ID heard from that address)."
        ),
    )
    max_senders: int = Field(
        default=10_000, ge=1, description="Drones remembered at once (oldest forgotten)."
    )


@dataclass(frozen=True, slots=True)
class RemoteIdReceiverStats:
    """Counters since start."""

    datagrams: int = 0
    messages: int = 0
    states: int = 0
    errors: int = 0
    """Bad messages (and bad pack headers) skipped."""
    callback_errors: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RemoteIdUdpReceiver:
    """Listens on UDP, decodes each datagram and hands :class:`RemoteIdState` snapshots to ``on_state``."""

    def __init__(
        self,
        on_state: StateCallback,
        config: RemoteIdUdpConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._on_state = on_state
        self._config = config or RemoteIdUdpConfig()
        self._clock = clock
        self._assembler = RemoteIdAssembler(max_senders=self._config.max_senders)
        self._uas_by_address: dict[str, str] = {}
        self._stats = RemoteIdReceiverStats()
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def stats(self) -> RemoteIdReceiverStats:
        """A snapshot of the counters."""
        return self._stats

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); only valid after :meth:`start`."""
        if self._transport is None:
            raise RuntimeError("the Remote ID receiver is not started")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> tuple[str, int]:
        """Bind the socket and start receiving; returns the bound (host, port)."""
        if self._transport is not None:
            raise RuntimeError("the Remote ID receiver is already started")
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self._config.host, self._config.port)
        )
        self._transport = transport
        logger.info("Remote ID UDP receiver listening on %s:%s", *self.address)
        return self.address

    async def stop(self) -> None:
        """Close the socket (idempotent)."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> "RemoteIdUdpReceiver":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def handle_datagram(self, data: bytes, source: str) -> list[RemoteIdState]:
        """Decode one datagram from ``source`` ("host:port"), count, deliver and return its states."""
        received_at = self._clock()
        errors: list[RemoteIdDecodeError] = []
        messages = decode_stream(data, errors=errors)
        singles = flatten(messages)
        states = self._assembler.feed_many(self._sender_key(source, singles), singles, received_at)
        stats = replace(
            self._stats,
            datagrams=self._stats.datagrams + 1,
            messages=self._stats.messages + len(singles),
            states=self._stats.states + len(states),
            errors=self._stats.errors + len(errors),
        )
        if errors:
            stats = replace(stats, last_error=f"from {source}: {errors[-1]}", last_error_at=received_at)
            logger.warning(
                "Remote ID datagram from %s: %d bad message(s), last: %s", source, len(errors), errors[-1]
            )
        self._stats = stats
        for state in states:
            self._deliver(state)
        return states

    def record_socket_error(self, exc: Exception) -> None:
        """Count an error the socket reported (e.g. ICMP port unreachable); receiving goes on."""
        self._stats = replace(
            self._stats,
            errors=self._stats.errors + 1,
            last_error=f"socket: {exc}",
            last_error_at=self._clock(),
        )
        logger.warning("Remote ID UDP socket error: %s", exc)

    def _sender_key(self, source: str, singles: Sequence[object]) -> str:
        if self._config.key_by == "address":
            return source
        ids = [m.uas_id for m in singles if isinstance(m, BasicId) and m.uas_id]
        if ids:
            self._uas_by_address[source] = ids[0]
            return ids[0]
        return self._uas_by_address.get(source, source)

    def _deliver(self, state: RemoteIdState) -> None:
        try:
            self._on_state(state)
        except Exception as exc:  # a consumer's bug must not stop reception
            self._stats = replace(
                self._stats,
                callback_errors=self._stats.callback_errors + 1,
                last_error=f"callback: {exc!r}",
                last_error_at=state.received_at,
            )
            logger.exception("Remote ID state callback failed for sender %s", state.sender)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, receiver: RemoteIdUdpReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = f"{addr[0]}:{addr[1]}"
        try:
            self._receiver.handle_datagram(data, source)
        except Exception as exc:  # top of the receive loop: log with context and carry on
            self._receiver.record_socket_error(exc)
            logger.exception("Remote ID datagram from %s could not be handled", source)

    def error_received(self, exc: Exception) -> None:
        self._receiver.record_socket_error(exc)
