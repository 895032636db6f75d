"""Evidence packages: contents, manifest hashes, the audit excerpt, and tampering found by the check."""

import hashlib
import json
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hwarang.domain import Incident
from hwarang.hub.errors import NotFoundError
from hwarang.hub.evidence.audit import record_hash
from hwarang.hub.evidence.check import check_against_chain, check_package
from hwarang.hub.evidence.package import MANIFEST_NAME, PackageManifest, build_package, export_package
from hwarang.hub.service import HubService
from hwarang.hub.store.models import AttachmentRow, IncidentHistoryRow, NoteRow, TaskRow
from tests.hub_support import T0, jpeg_bytes, make_message, new_incident


def _incident_with_records(service: HubService) -> tuple[Incident, bytes]:
    incident = new_incident(service, make_message(track_id=1, seed=1))
    attachment = b"report text\n" * 10
    sha = service.evidence.put(attachment)
    with service.database.session(write=True) as session:
        session.add(
            IncidentHistoryRow(
                incident_id=incident.id,
                at=T0,
                actor="op1",
                kind="state",
                from_state="new",
                to_state="acknowledged",
                detail={"reason": "seen"},
            )
        )
        session.add(NoteRow(incident_id=incident.id, author="op1", at=T0, text="two people at the fence"))
        session.add(
            TaskRow(
                id=uuid.uuid4(),
                incident_id=incident.id,
                agency_code="army-52",
                unit=None,
                title="Check the fence",
                instructions="",
                state="open",
                due_at=T0 + timedelta(minutes=30),
                created_by="op1",
                created_at=T0,
                updated_at=T0,
            )
        )
        session.add(
            AttachmentRow(
                id=uuid.uuid4(),
                incident_id=incident.id,
                sha256=sha,
                filename="../report 1.txt",
                content_type="text/plain",
                size=len(attachment),
                uploaded_by="op1",
                at=T0,
            )
        )
    snapshot = incident.snapshot_sha256 or ""
    service.audit.record("op1", "evidence.view", f"snapshot:{snapshot}", {"client": "127.0.0.1"})
    service.audit.record("op1", "grant.use", "grant:x", {"incident_id": str(incident.id)})
    service.audit.record("op2", "evidence.view", f"snapshot:{'f' * 64}")  # another incident's: left out
    return incident, attachment


def _rewrite(
    source: Path, target: Path, *, replace: dict[str, bytes], drop: set[str], add: dict[str, bytes]
) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name in drop:
                continue
            new.writestr(name, replace.get(name, old.read(name)))
        for name, data in add.items():
            new.writestr(name, data)


def test_package_holds_everything_with_matching_hashes(service: HubService, tmp_path: Path) -> None:
    incident, attachment = _incident_with_records(service)
    out = tmp_path / "out" / "package.zip"
    built = export_package(service.database, service.evidence, incident.id, out, creator="op1")
    assert built.path == out and list(out.parent.iterdir()) == [out]
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest_bytes = archive.read(MANIFEST_NAME)
        manifest = PackageManifest.model_validate_json(manifest_bytes)
        assert names[-1] == MANIFEST_NAME
        for entry in manifest.files:
            data = archive.read(entry.path)
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry.sha256, entry.size)
        events = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
        timeline = json.loads(archive.read("timeline.json"))
        notes = json.loads(archive.read("notes.json"))
        tasks = json.loads(archive.read("tasks.json"))
        audit = [json.loads(line) for line in archive.read("audit.jsonl").splitlines()]
        snapshot = archive.read(f"snapshots/{incident.snapshot_sha256}.jpg")
        attached = [n for n in names if n.startswith("attachments/")]
        assert archive.read(attached[0]) == attachment
    assert hashlib.sha256(manifest_bytes).hexdigest() == built.manifest_sha256
    assert {f.path for f in manifest.files} == set(names) - {MANIFEST_NAME}
    assert manifest.incident_id == incident.id and manifest.creator == "op1"
    assert manifest.clips == [] and manifest.missing == []
    assert json.loads(json.dumps(incident.model_dump(mode="json"))) == json.loads(
        zipfile.ZipFile(out).read("incident.json")
    )
    assert [e["id"] for e in events] == [str(i) for i in incident.event_ids]
    acknowledged = [entry for entry in timeline if entry["to_state"] == "acknowledged"]
    assert len(acknowledged) == 1 and acknowledged[0]["at"] == "2025-03-01T12:00:00.000000Z"
    assert notes[0]["text"] == "two people at the fence" and tasks[0]["agency_code"] == "army-52"
    assert attached == [f"attachments/{hashlib.sha256(attachment).hexdigest()}-.._report_1.txt"]
    assert snapshot == jpeg_bytes(1)
    assert [r["action"] for r in audit] == ["incident.create", "evidence.view", "grant.use"]
    for record in audit:
        stored = next(e for e in service.audit.entries(20) if e.id == record["id"])
        assert record["hash"] == stored.hash
        assert record["hash"] == record_hash(
            stored.id,
            stored.at,
            stored.actor,
            stored.action,
            stored.target,
            stored.detail,
            stored.prev_hash or "",
        )
    assert manifest.audit.records == 3 and manifest.audit.chain_last_id == 4
    export = service.audit.entries(1)[0]
    assert (export.action, export.target) == ("evidence.export", f"incident:{incident.id}")
    assert export.detail["manifest_sha256"] == built.manifest_sha256
    assert service.audit.verify().ok


def test_an_intact_package_checks_out_against_itself_and_the_chain(
    service: HubService, tmp_path: Path
) -> None:
    incident, _ = _incident_with_records(service)
    built = export_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    check = check_package(built.path, expected_manifest_sha256=built.manifest_sha256)
    assert check.ok, check.problems
    assert check.files_checked == len(built.manifest.files) and check.manifest_sha256 == built.manifest_sha256
    check_against_chain(service.database, built.path, check)
    assert check.ok, check.problems


def test_tampering_is_named(service: HubService, tmp_path: Path) -> None:
    incident, _ = _incident_with_records(service)
    built = export_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    snapshot = f"snapshots/{incident.snapshot_sha256}.jpg"
    forged = tmp_path / "forged.zip"
    _rewrite(built.path, forged, replace={"notes.json": b"[]\n"}, drop={snapshot}, add={"extra.txt": b"x"})
    problems = check_package(forged).problems
    assert any(p.startswith("notes.json: SHA-256") and "(altered?)" in p for p in problems)
    assert f"{snapshot}: listed in the manifest but missing from the ZIP (removed?)" in problems
    assert "extra.txt: in the ZIP but not in the manifest (added?)" in problems
    assert len(problems) == 3


def test_a_rewritten_manifest_is_caught_by_its_expected_hash_and_the_chain(
    service: HubService, tmp_path: Path
) -> None:
    incident, _ = _incident_with_records(service)
    built = export_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    with zipfile.ZipFile(built.path) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
    manifest["creator"] = "someone-else"
    forged = tmp_path / "forged.zip"
    _rewrite(built.path, forged, replace={MANIFEST_NAME: json.dumps(manifest).encode()}, drop=set(), add={})
    check = check_package(forged, expected_manifest_sha256=built.manifest_sha256)
    assert [p for p in check.problems if p.startswith(f"{MANIFEST_NAME}: SHA-256")]
    check_against_chain(service.database, forged, check)
    assert any("no evidence.export record" in p for p in check.problems)


def test_an_edited_audit_excerpt_is_named(service: HubService, tmp_path: Path) -> None:
    incident, _ = _incident_with_records(service)
    built = build_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    with zipfile.ZipFile(built.path) as archive:
        lines = archive.read("audit.jsonl").decode().splitlines()
    record = json.loads(lines[1])
    record["actor"] = "nobody"
    lines[1] = json.dumps(record)
    forged = tmp_path / "forged.zip"
    _rewrite(
        built.path, forged, replace={"audit.jsonl": ("\n".join(lines) + "\n").encode()}, drop=set(), add={}
    )
    problems = check_package(forged).problems
    assert f"audit.jsonl record {record['id']}: hash mismatch (edited?)" in problems


def test_a_record_edited_in_the_database_after_export_is_named(service: HubService, tmp_path: Path) -> None:
    incident, _ = _incident_with_records(service)
    built = export_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    with service.database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET hash = :h WHERE id = 1"), {"h": "0" * 64})
    check = check_package(built.path)
    check_against_chain(service.database, built.path, check)
    assert check.problems == ["audit.jsonl record 1: hash differs from the hub's audit trail"]


def test_evidence_the_hub_does_not_hold_is_listed_as_missing(service: HubService, tmp_path: Path) -> None:
    incident, _ = _incident_with_records(service)
    snapshot_path = service.evidence.path(incident.snapshot_sha256 or "")
    assert snapshot_path is not None
    snapshot_path.unlink()
    built = build_package(service.database, service.evidence, incident.id, tmp_path / "p.zip", creator="op1")
    assert [m.path for m in built.manifest.missing] == [f"snapshots/{incident.snapshot_sha256}.jpg"]
    assert check_package(built.path).ok


def test_an_unknown_incident_leaves_no_file(service: HubService, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        build_package(
            service.database, service.evidence, uuid.uuid4(), tmp_path / "out" / "p.zip", creator="op1"
        )
    assert list((tmp_path / "out").iterdir()) == []


def test_not_a_zip_is_reported(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    assert check_package(bogus).problems[0].endswith("not a readable ZIP (File is not a zip file)")
