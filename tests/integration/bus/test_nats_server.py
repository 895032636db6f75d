"""NatsServerProcess and generated configs against the real nats-server binary."""

import subprocess
from pathlib import Path

import pytest

from hwarang.bus import BusError
from hwarang.bus.natsconfig import Listen, SecretStore, write_hub_config, write_leaf_config
from hwarang.bus.server import NatsServerProcess, find_nats_server
from tests.integration.bus.nats_support import write_plain_config

pytestmark = pytest.mark.integration


async def test_start_stop_kill_restart_keep_the_ports(tmp_path: Path) -> None:
    server = NatsServerProcess(write_plain_config(tmp_path), name="one")
    async with server:
        assert server.running and server.client_url.startswith("nats://127.0.0.1:")
        url, pid = server.client_url, server.pid
        await server.kill()
        assert not server.running
        await server.start()
        await server.restart()
        assert server.client_url == url and server.pid != pid and server.running
    assert not server.running
    assert "Server is ready" in server.log_tail(100_000)


async def test_a_bad_config_fails_with_the_servers_log(tmp_path: Path) -> None:
    config = tmp_path / "bad.conf"
    config.write_text("jetstream { no_such_option: 1 }\n", encoding="utf-8")
    with pytest.raises(BusError, match="exited with code"):
        await NatsServerProcess(config, name="bad").start()
    with pytest.raises(BusError, match="does not exist"):
        await NatsServerProcess(tmp_path / "missing.conf", name="x").start()


def test_generated_configs_are_valid_for_nats_server(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets.json", environ={})
    written = [
        write_hub_config(
            tmp_path, role="national", hub_id="hq", store_dir=tmp_path / "n", store=store, leaves=["r1"]
        ),
        write_hub_config(
            tmp_path,
            role="regional",
            hub_id="r1",
            store_dir=tmp_path / "r",
            store=store,
            leaves=["seoul-cc"],
            direct_centers=["incheon-cc"],
            uplink_urls=["nats-leaf://127.0.0.1:7422"],
            listen=Listen(port=4223, http_port=8223, leaf_port=7423),
        ),
        write_leaf_config(
            tmp_path,
            center_id="seoul-cc",
            store_dir=tmp_path / "l",
            uplink_urls=["nats-leaf://127.0.0.1:7423"],
            store=store,
        ),
    ]
    binary = str(find_nats_server())
    for cfg in written:
        done = subprocess.run([binary, "-c", str(cfg.config_path), "-t"], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode()


def test_deploy_examples_hold_no_secrets_and_are_valid(tmp_path: Path) -> None:
    deploy = Path(__file__).resolve().parents[3] / "deploy" / "nats"
    configs = sorted(p for p in deploy.glob("*.conf"))
    assert {p.name for p in configs} == {
        "national-hq.conf",
        "regional-capital.conf",
        "leaf-seoul-junggu-cc.conf",
    }
    binary = str(find_nats_server())
    for config in configs:
        example = deploy / f"{config.stem}.secrets.conf.example"
        values = [line.split("=", 1)[1] for line in example.read_text().splitlines() if "=" in line]
        assert values and all("CHANGE_ME" in v for v in values)
        (tmp_path / config.name).write_text(config.read_text())
        (tmp_path / f"{config.stem}.secrets.conf").write_text(example.read_text())
        done = subprocess.run(
            [binary, "-c", str(tmp_path / config.name), "-t"], capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode()
