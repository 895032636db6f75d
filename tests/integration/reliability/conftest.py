"""Fault tests with real servers: the helpers of ``tests/integration`` and a private nats-server."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).resolve().parents[1]
for _folder in (_INTEGRATION, _INTEGRATION / "bus"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from nats_support import write_plain_config  # noqa: E402

from hwarang.bus.server import NatsServerProcess  # noqa: E402


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[NatsServerProcess]:
    """A JetStream server of this test alone on free loopback ports."""
    folder = tmp_path / "nats"
    folder.mkdir()
    server = NatsServerProcess(write_plain_config(folder), name="reliability")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
