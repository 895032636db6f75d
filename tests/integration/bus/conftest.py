"""A private JetStream server per test: free loopback ports, store in the test's tmp dir."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hwarang.bus.server import NatsServerProcess
from tests.integration.bus.nats_support import write_plain_config


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[NatsServerProcess]:
    server = NatsServerProcess(write_plain_config(tmp_path), name="test")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
