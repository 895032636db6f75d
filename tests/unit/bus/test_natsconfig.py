"""The nats-server config generator: secrets kept apart, permissions per agency, roles."""

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwarang.bus import BusError
from hwarang.bus.natsconfig import (
    SecretStore,
    agency_permissions,
    center_domain,
    edge_leaf_permissions,
    edge_permissions,
    password_var,
    write_hub_config,
    write_leaf_config,
)
from hwarang.cli import app


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_passwords_live_only_in_private_secrets_files(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets.json", environ={})
    hub = write_hub_config(
        tmp_path, role="national", hub_id="hq", store_dir=tmp_path / "js", store=store, leaves=["seoul-cc"]
    )
    text = hub.config_path.read_text()
    for user, password in hub.users.items():
        assert password not in text
        assert f"${password_var(user)}" in text
    assert set(hub.users) >= {"hub", "police", "military", "coast_guard", "fire", "leaf-seoul-cc"}
    assert _mode(hub.secrets_path) == 0o600 and _mode(tmp_path / "secrets.json") == 0o600
    assert hub.users["police"] in hub.secrets_path.read_text()


def test_passwords_are_reused_and_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    hub = write_hub_config(
        tmp_path,
        role="national",
        hub_id="hq",
        store_dir=tmp_path / "js",
        store=SecretStore(path, environ={}),
        leaves=["seoul-cc"],
    )
    leaf = write_leaf_config(
        tmp_path,
        center_id="seoul-cc",
        store_dir=tmp_path / "l",
        uplink_urls=["nats-leaf://127.0.0.1:7422"],
        store=SecretStore(path, environ={}),
    )
    uplink = hub.users["leaf-seoul-cc"]
    assert f"leaf-seoul-cc:{uplink}@127.0.0.1:7422" in leaf.secrets_path.read_text()
    assert leaf.domain == center_domain("seoul-cc") == "center-seoul-cc"
    env = {"HWARANG_NATS_PW_POLICE": "from-env"}
    again = write_hub_config(
        tmp_path,
        role="national",
        hub_id="hq",
        store_dir=tmp_path / "js",
        store=SecretStore(path, environ=env),
    )
    assert again.users["police"] == "from-env" and again.users["hub"] == hub.users["hub"]
    assert json.loads(path.read_text())["police"] == "from-env"


def test_agency_permissions_deny_the_other_agencies() -> None:
    perms = agency_permissions("police")
    sub = perms["subscribe"]
    assert isinstance(sub, dict)
    assert sub["allow"] == ["hwarang.share.police.>", "_INBOX_police.>"]
    assert "hwarang.share.military.>" in sub["deny"] and "hwarang.share.police.>" not in sub["deny"]
    pub = perms["publish"]
    assert isinstance(pub, dict)
    assert all("MILITARY" not in s for s in pub["allow"])


def test_an_edge_may_send_live_video_only_of_its_own_center() -> None:
    for perms in (edge_leaf_permissions("seoul-jung"), edge_permissions("seoul-jung")):
        pub, sub = perms["publish"], perms["subscribe"]
        assert isinstance(pub, dict) and isinstance(sub, dict)
        assert "hwarang.live.video.seoul-jung.*" in pub["allow"]
        assert not any(s.startswith("hwarang.live.video.") and "seoul-jung" not in s for s in pub["allow"])
        assert "hwarang.live.lease.seoul-jung.*" in sub["allow"]
        assert not any(s.startswith("hwarang.live.lease.") for s in pub["allow"])
    agency_sub = agency_permissions("military")["subscribe"]
    assert isinstance(agency_sub, dict) and "hwarang.live.>" in agency_sub["deny"]


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "s.json", environ={})
    with pytest.raises(BusError, match="without credentials"):
        write_leaf_config(
            tmp_path,
            center_id="c1",
            store_dir=tmp_path,
            store=store,
            uplink_urls=["nats-leaf://u:p@hub:7422"],
        )
    with pytest.raises(BusError, match="invalid center id"):
        center_domain("Bad.Center")
    with pytest.raises(BusError, match="no uplink"):
        write_hub_config(
            tmp_path,
            role="national",
            hub_id="hq",
            store_dir=tmp_path,
            store=store,
            uplink_urls=["nats-leaf://x:1"],
        )
    (tmp_path / "broken.json").write_text("[1]")
    with pytest.raises(BusError, match="user -> password"):
        SecretStore(tmp_path / "broken.json")


def test_cli_writes_a_leaf_and_a_regional_hub(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "nats"
    result = runner.invoke(
        app,
        [
            "nats",
            "config",
            "--role",
            "regional",
            "--id",
            "capital",
            "--out",
            str(out),
            "--leaf",
            "seoul-cc",
            "--uplink",
            "nats-leaf://127.0.0.1:7500",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "region-capital" in result.output
    result = runner.invoke(
        app,
        [
            "nats",
            "config",
            "--role",
            "leaf",
            "--id",
            "seoul-cc",
            "--out",
            str(out),
            "--uplink",
            "nats-leaf://127.0.0.1:7422",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "leaf-seoul-cc.conf").is_file() and _mode(out / "leaf-seoul-cc.secrets.conf") == 0o600
    result = runner.invoke(app, ["nats", "config", "--role", "leaf", "--id", "x", "--out", str(out)])
    assert result.exit_code == 2 and "uplink" in result.output
    result = runner.invoke(app, ["nats", "config", "--role", "galaxy", "--id", "x", "--out", str(out)])
    assert result.exit_code == 2
