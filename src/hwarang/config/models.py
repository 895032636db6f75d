"""The configuration schema. Every field is described: the descriptions feed ``--help`` and the docs."""

import ssl
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwarang.bus.config import BusConfig, MemoryBusConfig, NatsBusConfig
from hwarang.domain import Classification
from hwarang.edge.config import CameraConfig, CenterConfig, EdgeConfig
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.sharing.provenance import ProvenanceConfig
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.interop.remote_id_udp import RemoteIdUdpConfig

__all__ = [
    "ApiConfig",
    "AppConfig",
    "BusConfig",
    "CameraConfig",
    "CenterConfig",
    "EdgeConfig",
    "HubConfig",
    "MemoryBusConfig",
    "NatsBusConfig",
    "TakFeedConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TakFeedConfig(_Strict):
    """A TCP Cursor-on-Target stream for one partner agency's TAK clients (no login: bind with care)."""

    agency: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Registered agency whose need-to-know the feed follows (as if its liaison exported).",
    )
    host: str = Field(default="127.0.0.1", description="Listen address; loopback unless a partner network.")
    port: int = Field(default=8089, ge=0, le=65535, description="Listen port (0: any free port).")
    wire: Literal["xml", "protobuf"] = Field(default="xml", description="CoT XML or TAK protocol v1.")
    clearance: Classification = Field(
        default=Classification.RESTRICTED, description="Highest classification sent on this feed."
    )
    include_exercise: bool = Field(default=False, description="Also stream exercise incidents.")
    max_clients: int = Field(default=16, ge=1, le=1024, description="Connections accepted at once.")
    queue_size: int = Field(default=256, ge=1, le=100_000, description="Per-client backlog before drops.")
    registered_uids: list[
        Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
    ] = Field(
        default_factory=list,
        max_length=10_000,
        description=(
            "CoT uids of the agency's registered TAK clients: their positions and markers become "
            "friendly tracks on the map; CoT from any other uid is refused and audited."
        ),
    )


class RemoteIdUdpIntakeConfig(RemoteIdUdpConfig):
    """The hub's own Remote ID UDP intake (docs/drones.md); off by default."""

    enabled: bool = Field(default=False, description="Listen for Remote ID datagrams from receivers.")


class HubDroneConfig(DroneConfig):
    """Drones and robots at the hub: tracks, geofences, fusion, and the Remote ID UDP intake."""

    remote_id_udp: RemoteIdUdpIntakeConfig = Field(
        default_factory=RemoteIdUdpIntakeConfig,
        description="UDP intake of Remote ID receivers (off by default).",
    )


class HubConfig(_Strict):
    """The situation-room hub."""

    data_dir: Path = Field(
        default=Path("var/hub"), description="Where the hub keeps its database, evidence and keys."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; SQLite in data_dir if omitted, postgresql+psycopg://... in production.",
    )
    ingest_batch: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="Events fetched from the bus and stored per transaction (acked after the commit).",
    )
    fusion: FusionConfig = Field(
        default_factory=FusionConfig,
        description="Correlation of events into incidents, severity rules and named areas (docs/fusion.md).",
    )
    workflow: WorkflowConfig = Field(
        default_factory=WorkflowConfig, description="Countermeasure workflow: escalation and attachments."
    )
    drones: HubDroneConfig = Field(
        default_factory=HubDroneConfig,
        description="Drone and robot tracks, geofences over key sites, Remote ID intake (docs/drones.md).",
    )
    provenance: ProvenanceConfig = Field(
        default_factory=ProvenanceConfig,
        description="Registered centers and public keys; events verified before storing (docs/security.md).",
    )
    tak_feeds: list[TakFeedConfig] = Field(
        default_factory=list,
        description="Cursor-on-Target TCP streams, one per partner agency (docs/interop.md); none by default",
    )
    integrity_check_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between SQLite `PRAGMA quick_check` runs (also run at start); a damaged "
        "store turns health to `failed`.",
    )
    min_free_mb: float = Field(
        default=256.0,
        ge=0,
        description="Health says `degraded` when the data directory's file system has less free space "
        "(capped at 5% of its size, so small volumes are not always short).",
    )


class ApiConfig(_Strict):
    """The HTTP API and web page."""

    host: str = Field(default="127.0.0.1", description="Listen address; loopback by default.")
    port: int = Field(default=8080, ge=1, le=65535, description="Listen port.")
    tls_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate (chain): with tls_key_file the API serves only HTTPS, with HSTS.",
    )
    tls_key_file: Path | None = Field(
        default=None, description="PEM private key of tls_cert_file (mode 0600)."
    )
    tls_client_ca_file: Path | None = Field(
        default=None, description="Optional: CA whose client certificates the API requires (mutual TLS)."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> "ApiConfig":
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("api: give both tls_cert_file and tls_key_file, or neither")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError("api: tls_client_ca_file needs tls_cert_file and tls_key_file")
        return self

    def uvicorn_tls(self) -> dict[str, Any]:
        """The uvicorn keyword arguments for TLS (empty: plain HTTP)."""
        if self.tls_cert_file is None:
            return {}
        out: dict[str, Any] = {"ssl_certfile": str(self.tls_cert_file), "ssl_keyfile": str(self.tls_key_file)}
        if self.tls_client_ca_file is not None:
            out |= {"ssl_ca_certs": str(self.tls_client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
        return out


class AppConfig(_Strict):
    """A whole Hwarang deployment described in one file."""

    site_name: str = Field(default="Hwarang", description="Shown in the page title.")
    bus: BusConfig = Field(
        default_factory=MemoryBusConfig,
        description="Event bus: 'memory' (embedded, one process) or 'nats' (edge and hub apart).",
    )
    hub: HubConfig = Field(default_factory=HubConfig, description="Hub settings.")
    api: ApiConfig = Field(default_factory=ApiConfig, description="API settings.")
    edge: EdgeConfig = Field(default_factory=EdgeConfig, description="Edge centers and cameras.")
