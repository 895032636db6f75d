"""Bus backends as plugins: one config class per ``type`` that builds its bus, gathered in ``BusConfig``.

``memory`` is the embedded default; ``nats`` connects to NATS JetStream (nats-py is imported only
when that backend is built).
"""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hwarang.bus.base import Bus, BusError
from hwarang.bus.subjects import (
    ACKS_ALL,
    CLIPS_ALL,
    COMMANDS_ALL,
    DEAD_LETTER_ALL,
    DRONES_ALL,
    EVENTS_ALL,
    INCIDENTS_ALL,
    SHARE_PREFIX,
    center_commands,
)
from hwarang.plugins import Registry

if TYPE_CHECKING:
    import ssl
    from collections.abc import Sequence

    from hwarang.bus.nats import NatsBus, StreamSourceSpec

EVENTS_STREAM = "HWARANG_EVENTS"
DEADLETTER_STREAM = "HWARANG_DEADLETTER"
INCIDENTS_STREAM = "HWARANG_INCIDENTS"
COMMANDS_STREAM = "HWARANG_COMMANDS"
DRONES_STREAM = "HWARANG_DRONES"
CLIPS_STREAM = "HWARANG_CLIPS"
ACKS_STREAM = "HWARANG_ACKS"
CLIPS_MAX_BYTES = 512 * 1024**2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamSettings(_Strict):
    """Retention of one JetStream stream."""

    max_age_s: float = Field(default=7 * 86400.0, gt=0, description="Discard messages older than this.")
    max_bytes: int = Field(default=-1, ge=-1, description="Discard the oldest past this size; -1: none.")
    duplicate_window_s: float = Field(
        default=120.0, gt=0, description="Messages with a msg id seen within this window are stored once."
    )
    storage: Literal["file", "memory"] = Field(default="file", description="'file' survives restarts.")
    replicas: int = Field(default=1, ge=1, le=5, description="Copies in a JetStream cluster (1 standalone).")


class BusPluginConfig(_Strict, ABC):
    """Base of every bus backend's config: a ``type`` literal and ``build``."""

    @abstractmethod
    async def build(self) -> Bus:
        """The bus this config describes, ready to publish and subscribe."""


class MemoryBusConfig(BusPluginConfig):
    """In-process bus for the embedded deployment (``hwarang demo``)."""

    type: Literal["memory"] = Field(default="memory", description="'memory': one process, nothing to run.")
    max_msgs: int = Field(
        default=200_000,
        ge=1,
        description="Messages kept. When full, the oldest acked (then unconsumed) go first; a message a "
        "consumer has not acked is never discarded: publish is refused (retried, health 'degraded').",
    )
    max_bytes: int = Field(
        default=512 * 1024**2,
        ge=1,
        description="Bytes kept (clips are large); when full, as max_msgs: acked messages go first, "
        "unacked ones are never discarded.",
    )
    duplicate_window_s: float = Field(default=120.0, gt=0, description="De-duplication window by msg id.")

    async def build(self) -> Bus:
        """An in-memory bus."""
        from hwarang.bus.memory import MemoryBus

        return MemoryBus(
            max_msgs=self.max_msgs, max_bytes=self.max_bytes, duplicate_window_s=self.duplicate_window_s
        )


class NatsBusConfig(BusPluginConfig):
    """NATS JetStream: edge and hub processes apart, leaf nodes at the centers."""

    type: Literal["nats"] = Field(description="'nats': NATS JetStream via nats-py.")
    servers: list[str] = Field(
        default_factory=lambda: ["nats://127.0.0.1:4222"],
        min_length=1,
        description="Server URLs (the center's leaf node for an edge, the hub's servers for a hub).",
    )
    name: str = Field(default="hwarang", description="Connection name shown in the server's monitoring.")
    user: str | None = Field(default=None, description="User name (with password).")
    password: SecretStr | None = Field(
        default=None, description="Password; write ${HWARANG_NATS_PASSWORD} in the file, never the value."
    )
    creds_file: Path | None = Field(default=None, description="A NATS .creds file (JWT + nkey seed).")
    nkey_seed_file: Path | None = Field(default=None, description="An nkey seed file (user nkey auth).")
    tls_ca_file: Path | None = Field(
        default=None, description="CA bundle that signed the servers' certificates (turns TLS on)."
    )
    tls_cert_file: Path | None = Field(
        default=None, description="Client certificate (PEM) for servers that require mutual TLS."
    )
    tls_key_file: Path | None = Field(default=None, description="Private key of tls_cert_file (mode 0600).")
    domain: str | None = Field(
        default=None, description="JetStream domain to address (empty: the one of the server connected to)."
    )
    inbox_prefix: str | None = Field(
        default=None, description="Reply-subject prefix; agency users get their own (e.g. _INBOX_police)."
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of one connection attempt.")
    first_connect_wait_s: float = Field(
        default=30.0, gt=0, description="How long start-up keeps trying before it gives up."
    )
    reconnect_wait_s: float = Field(default=0.5, gt=0, description="First reconnect delay (doubles).")
    reconnect_wait_max_s: float = Field(default=10.0, gt=0, description="Longest reconnect delay.")
    api_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of a publish ack or JetStream call.")
    manage_streams: Literal["hub", "edge", "none"] = Field(
        default="hub",
        description=(
            "Streams to create or update at start: 'hub' (events, clips, dead letters, incidents, commands), "
            "'edge' on a center's leaf node (local events and clips; commands sourced from hub_domain), "
            "'none'."
        ),
    )
    leaf_domains: list[str] = Field(
        default_factory=list,
        description="Hub: JetStream domains of the leaf nodes whose HWARANG_EVENTS this hub sources.",
    )
    share_agencies: list[str] = Field(
        default_factory=list,
        description="Hub: agencies given a HWARANG_SHARE_<AGENCY> stream on hwarang.share.<agency>.>.",
    )
    hub_domain: str | None = Field(
        default=None, description="Edge on a leaf node: the hub's JetStream domain (commands come from it)."
    )
    center_id: str | None = Field(default=None, description="Edge on a leaf node: this center's id.")
    events: StreamSettings = Field(default_factory=StreamSettings, description="HWARANG_EVENTS stream.")
    deadletter: StreamSettings = Field(
        default_factory=lambda: StreamSettings(max_age_s=30 * 86400.0),
        description="HWARANG_DEADLETTER stream (messages the hub will not store, with the reason); "
        "also the limits of HWARANG_ADVISORIES (max-deliveries advisories).",
    )
    incidents: StreamSettings = Field(
        default_factory=StreamSettings, description="HWARANG_INCIDENTS stream (incident updates)."
    )
    commands: StreamSettings = Field(
        default_factory=lambda: StreamSettings(max_age_s=86400.0),
        description="HWARANG_COMMANDS stream (commands back to edges); also HWARANG_ACKS (their answers).",
    )
    clips: StreamSettings = Field(
        default_factory=lambda: StreamSettings(max_age_s=3 * 86400.0, max_bytes=CLIPS_MAX_BYTES),
        description="HWARANG_CLIPS stream (event clips in chunks; bounded at the leaf and at the hub).",
    )

    async def build(self) -> Bus:
        """A connected NATS bus with (by default) its streams ensured."""
        bus = await connect_nats(self)
        if self.manage_streams != "none":
            try:
                await ensure_hwarang_streams(bus, self)
            except BusError:
                await bus.close()
                raise
        return bus


BusConfig = Annotated[MemoryBusConfig | NatsBusConfig, Field(discriminator="type")]
"""Any bus backend's config; the union is the list of bus plugins (``hwarang.plugins``)."""

BUSES: Registry[BusPluginConfig] = Registry("bus", BusConfig, error=BusError)
"""The bus backends, read from ``BusConfig``."""


async def build_bus(config: BusPluginConfig) -> Bus:
    """The bus described by ``config``; for NATS, connected and (by default) with its streams ensured."""
    return await BUSES.check(config).build()


async def connect_nats(config: NatsBusConfig) -> "NatsBus":
    """Connect a ``NatsBus`` as ``config`` says (no streams touched)."""
    try:
        from hwarang.bus.nats import NatsBus
    except ImportError as exc:  # pragma: no cover - nats-py is a dependency
        raise BusError(f"the 'nats' bus needs the nats-py package: {exc}") from exc
    tls = client_tls_context(config)
    return await NatsBus.connect(
        config.servers,
        name=config.name,
        user=config.user,
        password=config.password.get_secret_value() if config.password else None,
        creds_file=config.creds_file,
        nkey_seed_file=config.nkey_seed_file,
        tls=tls,
        domain=config.domain,
        inbox_prefix=config.inbox_prefix,
        connect_timeout_s=config.connect_timeout_s,
        first_connect_wait_s=config.first_connect_wait_s,
        reconnect_wait_s=config.reconnect_wait_s,
        reconnect_wait_max_s=config.reconnect_wait_max_s,
        api_timeout_s=config.api_timeout_s,
    )


def client_tls_context(config: NatsBusConfig) -> "ssl.SSLContext | None":
    """The TLS context of a NATS client: the CA to trust and, for mutual TLS, our certificate."""
    if config.tls_ca_file is None and config.tls_cert_file is None:
        return None
    if (config.tls_cert_file is None) != (config.tls_key_file is None):
        raise BusError("bus: give both tls_cert_file and tls_key_file, or neither")
    import ssl

    try:
        context = ssl.create_default_context(
            cafile=None if config.tls_ca_file is None else str(config.tls_ca_file)
        )
        if config.tls_cert_file is not None and config.tls_key_file is not None:
            context.load_cert_chain(str(config.tls_cert_file), str(config.tls_key_file))
    except (OSError, ssl.SSLError) as exc:
        raise BusError(f"bus TLS files unusable: {exc}") from exc
    return context


async def ensure_hwarang_streams(bus: "NatsBus", config: NatsBusConfig) -> None:
    """Create or update the streams of ``config.manage_streams`` ('hub' or 'edge')."""
    from hwarang.bus.nats import StreamSourceSpec

    if config.manage_streams == "edge":
        await _ensure(bus, EVENTS_STREAM, [EVENTS_ALL], config.events)
        await _ensure(bus, CLIPS_STREAM, [CLIPS_ALL], config.clips)
        await _ensure(bus, ACKS_STREAM, [ACKS_ALL], config.commands)
        if config.center_id is not None:
            commands = center_commands(config.center_id)
            sources = []
            if config.hub_domain:
                sources = [StreamSourceSpec(COMMANDS_STREAM, config.hub_domain, commands)]
            await _ensure(bus, COMMANDS_STREAM, [commands], config.commands, sources)
        return
    leaf_sources = [StreamSourceSpec(EVENTS_STREAM, domain) for domain in config.leaf_domains]
    await _ensure(bus, EVENTS_STREAM, [EVENTS_ALL], config.events, leaf_sources)
    clip_sources = [StreamSourceSpec(CLIPS_STREAM, domain) for domain in config.leaf_domains]
    await _ensure(bus, CLIPS_STREAM, [CLIPS_ALL], config.clips, clip_sources)
    ack_sources = [StreamSourceSpec(ACKS_STREAM, domain) for domain in config.leaf_domains]
    await _ensure(bus, ACKS_STREAM, [ACKS_ALL], config.commands, ack_sources)
    await _ensure(bus, DEADLETTER_STREAM, [DEAD_LETTER_ALL], config.deadletter)
    from hwarang.bus.advisories import ADVISORIES_STREAM, max_deliveries_subject

    await _ensure(bus, ADVISORIES_STREAM, [max_deliveries_subject(EVENTS_STREAM)], config.deadletter)
    await _ensure(bus, INCIDENTS_STREAM, [INCIDENTS_ALL], config.incidents)
    await _ensure(bus, COMMANDS_STREAM, [COMMANDS_ALL], config.commands)
    await _ensure(bus, DRONES_STREAM, [DRONES_ALL], config.incidents)
    for agency in config.share_agencies:
        stream = f"HWARANG_SHARE_{agency.upper()}"
        await _ensure(bus, stream, [f"{SHARE_PREFIX}.{agency}.>"], config.incidents)


async def _ensure(
    bus: "NatsBus",
    name: str,
    subjects: list[str],
    settings: StreamSettings,
    sources: "Sequence[StreamSourceSpec]" = (),
) -> None:
    await bus.ensure_stream(
        name,
        subjects,
        max_age_s=settings.max_age_s,
        max_bytes=settings.max_bytes,
        duplicate_window_s=settings.duplicate_window_s,
        storage=settings.storage,
        replicas=settings.replicas,
        sources=sources,
    )
