"""Helpers for the NATS integration tests (a plain JetStream server and bus configs)."""

from pathlib import Path

from hwarang.bus.config import NatsBusConfig
from hwarang.bus.server import NatsServerProcess


def write_plain_config(tmp_path: Path) -> Path:
    """A single server with JetStream and no accounts (the domain-less default)."""
    config = tmp_path / "server.conf"
    config.write_text(f'jetstream {{ store_dir: "{tmp_path / "js"}" }}\n', encoding="utf-8")
    return config


def bus_config(server: NatsServerProcess, **overrides: object) -> NatsBusConfig:
    """A hub-side config (all Hwarang streams ensured) for ``server``."""
    values: dict[str, object] = {
        "type": "nats",
        "servers": [server.client_url],
        "first_connect_wait_s": 10.0,
        "reconnect_wait_s": 0.1,
        "reconnect_wait_max_s": 0.5,
        "api_timeout_s": 2.0,
    }
    values.update(overrides)
    return NatsBusConfig.model_validate(values)
