"""The configuration schema. Every field is described: the descriptions feed ``--help`` and the docs."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hwarang.bus.config import BusConfig, MemoryBusConfig, NatsBusConfig
from hwarang.edge.config import CameraConfig, CenterConfig, EdgeConfig

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
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class ApiConfig(_Strict):
    """The HTTP API and web page."""

    host: str = Field(default="127.0.0.1", description="Listen address; loopback by default.")
    port: int = Field(default=8080, ge=1, le=65535, description="Listen port.")


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
