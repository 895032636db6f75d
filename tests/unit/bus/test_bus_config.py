"""Bus plugin configs: a discriminated union on ``type``, one factory, clear errors."""

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from hwarang.bus import BusError, MemoryBus
from hwarang.bus.config import BusConfig, MemoryBusConfig, NatsBusConfig, build_bus
from hwarang.bus.nats import StreamSourceSpec
from hwarang.bus.server import BINARY_ENV, find_nats_server
from hwarang.bus.subjects import center_commands, command_subject, incident_subject, share_subject

ADAPTER: TypeAdapter[MemoryBusConfig | NatsBusConfig] = TypeAdapter(BusConfig)


def test_union_picks_the_backend_by_type() -> None:
    assert isinstance(ADAPTER.validate_python({"type": "memory"}), MemoryBusConfig)
    nats_cfg = ADAPTER.validate_python({"type": "nats", "user": "hub", "password": "pw"})
    assert isinstance(nats_cfg, NatsBusConfig)
    assert nats_cfg.servers == ["nats://127.0.0.1:4222"] and "pw" not in repr(nats_cfg)
    with pytest.raises(ValidationError, match="extra"):
        ADAPTER.validate_python({"type": "nats", "sever": "typo"})
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"type": "kafka"})


async def test_build_bus_memory() -> None:
    bus = await build_bus(MemoryBusConfig(max_msgs=5))
    assert isinstance(bus, MemoryBus)
    ack = await bus.publish("hwarang.events.11.11140.c", b"x", msg_id="1")
    assert ack.seq == 1


def test_subject_helpers() -> None:
    assert incident_subject("11", "11140", "inc-1") == "hwarang.incidents.11.11140.inc-1"
    assert command_subject("seoul-cc", "snapshot") == "hwarang.commands.seoul-cc.snapshot"
    assert center_commands("seoul-cc") == "hwarang.commands.seoul-cc.>"
    assert share_subject("police", "incident") == "hwarang.share.police.incident"
    with pytest.raises(BusError, match="center"):
        command_subject("a.b", "x")


def test_source_spec_points_at_the_leaf_domain() -> None:
    source = StreamSourceSpec("HWARANG_EVENTS", "center-seoul-cc").to_api()
    assert source.external is not None and source.external.api == "$JS.center-seoul-cc.API"
    assert StreamSourceSpec("X").to_api().external is None


def test_find_nats_server_honours_the_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_nats_server().name == "nats-server"
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "nope"))
    with pytest.raises(BusError, match="not an executable"):
        find_nats_server()
