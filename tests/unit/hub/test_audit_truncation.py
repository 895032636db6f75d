"""Shortening the audit trail (last records deleted, hub_state rolled back) is named by the checkpoints."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.commands.audit import site_database_url
from hwarang.config import load_config
from hwarang.hub.evidence.audit import record_hash
from hwarang.hub.evidence.checkpoints import (
    AuditCheckpointer,
    CheckpointError,
    CheckpointFile,
    check_against_checkpoints,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import FAST_HASHER

RECORDS = 12


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, HubService]]:
    """A site config whose data dir holds a SQLite hub with 12 audit records, checkpointed."""
    data_dir = tmp_path / "hub-data"
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({"hub": {"data_dir": str(data_dir)}}), encoding="utf-8")
    database = Database(site_database_url(load_config(config)))
    database.migrate()
    service = HubService(database, EvidenceStore(data_dir / "evidence"), password_hasher=FAST_HASHER)
    checkpointer = AuditCheckpointer(database, CheckpointFile(data_dir))
    for i in range(RECORDS):
        service.audit.record("op1", "evidence.view", f"snapshot:{i:064x}", {"i": i})
        if i in (4, RECORDS - 1):
            assert checkpointer.checkpoint() is not None
    assert checkpointer.checkpoint() is None, "no new checkpoint while the head stands still"
    yield config, service
    database.close()


def _truncate(service: HubService, keep: int) -> None:
    """What an attacker with SQL access does: delete the newest records, roll hub_state back to match."""
    with service.database.engine.begin() as conn:
        head = conn.execute(text("SELECT hash FROM audit_log WHERE id = :id"), {"id": keep}).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE id > :id"), {"id": keep})
        conn.execute(
            text("UPDATE hub_state SET audit_last_id = :id, audit_head = :head"), {"id": keep, "head": head}
        )


def test_the_chain_alone_cannot_see_the_truncation_but_the_checkpoint_names_it(
    site: tuple[Path, HubService],
) -> None:
    config, service = site
    _truncate(service, keep=9)
    report = service.audit.verify()
    assert report.ok, "the shortened chain is consistent in itself: that is the gap checkpoints close"
    latest = CheckpointFile(load_config(config).hub.data_dir).latest()
    assert latest is not None and latest.last_id == RECORDS
    checked = check_against_checkpoints(service.database, report, latest)
    assert not checked.ok and checked.problem is not None
    assert (checked.problem.kind, checked.problem.record_id) == ("truncated", 10)
    assert "records 10..12 missing" in checked.problem.message


def test_audit_verify_names_the_truncation(site: tuple[Path, HubService]) -> None:
    config, service = site
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert ok.exit_code == 0, ok.output
    _truncate(service, keep=9)
    result = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "audit trail truncated: records 10..12 missing" in result.stderr
    url = service.database.engine.url.render_as_string(hide_password=False)
    folder = str(load_config(config).hub.data_dir)
    as_json = runner.invoke(
        app, ["audit", "verify", "--database-url", url, "--checkpoints", folder, "--json"]
    )
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["problem"]["kind"] == "truncated"


def test_a_rewritten_and_rehashed_last_record_is_named(site: tuple[Path, HubService]) -> None:
    config, service = site
    [entry] = service.audit.entries(limit=1)
    assert entry.prev_hash is not None
    new_hash = record_hash(
        entry.id, entry.at, entry.actor, entry.action, entry.target, {"i": 99}, entry.prev_hash
    )
    with service.database.engine.begin() as conn:  # rewrite the last record and re-hash it consistently
        conn.execute(
            text("UPDATE audit_log SET detail = :d, hash = :h WHERE id = :id"),
            {"d": '{"i": 99}', "h": new_hash, "id": RECORDS},
        )
        conn.execute(text("UPDATE hub_state SET audit_head = :h"), {"h": new_hash})
    report = service.audit.verify()
    assert report.ok, "a consistent re-hash passes the chain walk"
    checked = check_against_checkpoints(
        service.database, report, CheckpointFile(load_config(config).hub.data_dir).latest()
    )
    assert not checked.ok and checked.problem is not None
    assert (checked.problem.kind, checked.problem.record_id) == ("checkpoint_mismatch", RECORDS)


def test_an_altered_checkpoint_line_does_not_verify(site: tuple[Path, HubService]) -> None:
    config, _service = site
    checkpoints = CheckpointFile(load_config(config).hub.data_dir)
    lines = checkpoints.path.read_text(encoding="utf-8").splitlines()
    forged = json.loads(lines[-1]) | {"last_id": 9}
    checkpoints.path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n", encoding="utf-8")
    with pytest.raises(CheckpointError, match="line 2: seal does not verify"):
        checkpoints.latest()


def test_checkpoint_files_are_private(site: tuple[Path, HubService]) -> None:
    config, _service = site
    folder = load_config(config).hub.data_dir
    for name in ("audit-checkpoints.jsonl", "audit-checkpoint.key"):
        assert (folder / name).stat().st_mode & 0o077 == 0, name
