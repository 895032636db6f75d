"""What the separately run processes (``hwarang hub``, ``hwarang edge``) share: bus check, signals."""

import asyncio
import contextlib
import signal

from hwarang.bus.config import MemoryBusConfig, NatsBusConfig
from hwarang.config import AppConfig


class ProcessConfigError(Exception):
    """The configuration cannot run as the requested process (e.g. a hub on the in-memory bus)."""


def shared_bus_config(config: AppConfig, role: str) -> NatsBusConfig:
    """The config's NATS bus; ``ProcessConfigError`` when it names the in-memory bus."""
    if isinstance(config.bus, MemoryBusConfig):
        raise ProcessConfigError(
            f"'hwarang {role}' needs a bus shared between processes: set "
            "'bus: {type: nats, servers: [nats://host:4222]}' in the config "
            "(the in-memory bus only works inside 'hwarang demo')"
        )
    return config.bus


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (graceful shutdown) instead of ending the process at once."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
