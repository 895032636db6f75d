"""``hwarang audit verify|list``, ``hwarang incident export`` and ``hwarang evidence verify`` in-process."""

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.commands.audit import site_database_url
from hwarang.config import load_config
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.runtime.embedded import database_url
from tests.hub_support import FAST_HASHER, make_message, times


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, HubService]]:
    """A site config whose hub data dir holds a migrated SQLite hub with 40 audit records."""
    data_dir = tmp_path / "hub-data"
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({"hub": {"data_dir": str(data_dir)}}), encoding="utf-8")
    database = Database(site_database_url(load_config(config)))
    database.migrate()
    service = HubService(database, EvidenceStore(data_dir / "evidence"), password_hasher=FAST_HASHER)
    service.ingest.batch([make_message(track_id=i, occurred_at=t, seed=i) for i, t in enumerate(times(30))])
    for i in range(10):
        service.audit.record("op1", "evidence.view", f"snapshot:{i:064x}", {"i": i})
    yield config, service
    database.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _edit(service: HubService, statement: str) -> None:
    with service.database.engine.begin() as connection:
        connection.execute(text(statement))


def test_the_site_database_is_found_as_the_hub_finds_it(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({"hub": {"data_dir": str(tmp_path / "d")}}), encoding="utf-8")
    cfg = load_config(config)
    assert site_database_url(cfg) == database_url(cfg)
    with_url = cfg.model_copy(update={"hub": cfg.hub.model_copy(update={"database_url": "postgresql://x/y"})})
    assert site_database_url(with_url) == database_url(with_url) == "postgresql://x/y"


def test_verify_passes_on_an_untouched_trail(runner: CliRunner, site: tuple[Path, HubService]) -> None:
    config, _ = site
    result = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "ok: 40 audit records 1..40 verified" in result.stdout


def test_verify_names_the_record_edited_in_the_database(
    runner: CliRunner, site: tuple[Path, HubService]
) -> None:
    config, service = site
    _edit(service, "UPDATE audit_log SET detail = '{\"i\": 99}' WHERE id = 37")
    result = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "record 37: hash mismatch (edited?)" in result.stderr


def test_verify_names_a_deleted_record_by_database_url(
    runner: CliRunner, site: tuple[Path, HubService]
) -> None:
    _config, service = site
    _edit(service, "DELETE FROM audit_log WHERE id = 12")
    url = service.database.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["audit", "verify", "--database-url", url, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["problem"]["record_id"] == 12
    assert report["problem"]["kind"] == "missing"


def test_verify_without_a_database_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 2
    assert "no hub database at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_list_shows_the_newest_records(runner: CliRunner, site: tuple[Path, HubService]) -> None:
    config, _ = site
    result = runner.invoke(app, ["audit", "list", "--config", str(config), "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [e["id"] for e in entries] == [40, 39, 38]
    assert all(len(e["hash"]) == 64 for e in entries)
    result = runner.invoke(
        app, ["audit", "list", "--config", str(config), "--action", "incident.", "--limit", "2"]
    )
    assert (
        result.exit_code == 0 and "incident.create" in result.stdout and "evidence.view" not in result.stdout
    )


def test_export_then_verify_a_package(
    runner: CliRunner, site: tuple[Path, HubService], tmp_path: Path
) -> None:
    config, service = site
    incident = service.incidents.recent(limit=1)[0]
    out = tmp_path / "pkg" / "incident.zip"
    result = runner.invoke(
        app,
        [
            "incident",
            "export",
            str(incident.id),
            "--out",
            str(out),
            "--config",
            str(config),
            "--actor",
            "op1",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest_sha = result.stdout.split("manifest SHA-256 ")[1].split()[0]
    export = service.audit.entries(1)[0]
    assert (export.actor, export.action, export.detail["manifest_sha256"]) == (
        "op1",
        "evidence.export",
        manifest_sha,
    )

    result = runner.invoke(app, ["evidence", "verify", str(out), "--manifest-sha256", manifest_sha])
    assert result.exit_code == 0, result.output
    assert f"manifest SHA-256 {manifest_sha}" in result.stdout
    result = runner.invoke(app, ["evidence", "verify", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "and the hub's audit trail" in result.stdout

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(out) as old, zipfile.ZipFile(forged, "w") as new:
        for name in old.namelist():
            new.writestr(name, b"{}\n" if name == "incident.json" else old.read(name))
    result = runner.invoke(app, ["evidence", "verify", str(forged)])
    assert result.exit_code == 1
    assert "incident.json: SHA-256" in result.stderr and "1 problem(s)" in result.stderr


def test_export_of_an_unknown_incident_fails(
    runner: CliRunner, site: tuple[Path, HubService], tmp_path: Path
) -> None:
    config, _ = site
    result = runner.invoke(
        app,
        [
            "incident",
            "export",
            "00000000-0000-4000-8000-000000000000",
            "--out",
            str(tmp_path / "x.zip"),
            "-c",
            str(config),
        ],
    )
    assert result.exit_code == 1
    assert "incident 00000000-0000-4000-8000-000000000000 not found" in result.stderr
    assert not (tmp_path / "x.zip").exists()
