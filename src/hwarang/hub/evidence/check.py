"""Checking an evidence package: every file against the manifest, the audit excerpt, the chain.

:func:`check_package` needs only the ZIP: it recomputes each file's SHA-256 and size, finds files
missing from the ZIP or not in the manifest, and re-hashes each record of ``audit.jsonl``.
:func:`check_against_chain` also asks the hub's database: the excerpt's records must carry the
same hashes as the chain, and an ``evidence.export`` record must hold the manifest's SHA-256.
"""

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from hwarang.hub.evidence.audit import record_hash
from hwarang.hub.evidence.package import EXPORT_ACTION, MANIFEST_NAME, PackageManifest, export_target
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import AuditRow

_CHUNK = 1 << 20


class PackageCheck:
    """What checking a package found; ``problems`` is empty when it is intact."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest: PackageManifest | None = None
        self.manifest_sha256: str | None = None
        self.files_checked = 0
        self.problems: list[str] = []

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def check_package(path: Path, *, expected_manifest_sha256: str | None = None) -> PackageCheck:
    """Recompute every hash of the package at ``path`` against its manifest."""
    check = PackageCheck(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, check, expected_manifest_sha256)
    except (zipfile.BadZipFile, OSError) as exc:
        check.problems.append(f"{path}: not a readable ZIP ({exc})")
    return check


def _check_archive(archive: zipfile.ZipFile, check: PackageCheck, expected: str | None) -> None:
    try:
        manifest_bytes = archive.read(MANIFEST_NAME)
    except KeyError:
        check.problems.append(f"{MANIFEST_NAME} missing from the package")
        return
    check.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    if expected is not None and expected.lower() != check.manifest_sha256:
        check.problems.append(
            f"{MANIFEST_NAME}: SHA-256 {check.manifest_sha256} is not the expected {expected.lower()}"
        )
    try:
        check.manifest = PackageManifest.model_validate_json(manifest_bytes)
    except ValidationError as exc:
        check.problems.append(f"{MANIFEST_NAME}: not a valid manifest ({exc.error_count()} errors: {exc})")
        return
    listed = {entry.path for entry in check.manifest.files}
    present = {name for name in archive.namelist() if not name.endswith("/")}
    for name in sorted(present - listed - {MANIFEST_NAME}):
        check.problems.append(f"{name}: in the ZIP but not in the manifest (added?)")
    for entry in check.manifest.files:
        if entry.path not in present:
            check.problems.append(f"{entry.path}: listed in the manifest but missing from the ZIP (removed?)")
            continue
        digest, size = _hash_member(archive, entry.path, check)
        if digest is None:
            continue
        check.files_checked += 1
        if digest != entry.sha256 or size != entry.size:
            check.problems.append(
                f"{entry.path}: SHA-256 {digest} ({size} bytes) does not match the manifest's "
                f"{entry.sha256} ({entry.size} bytes) (altered?)"
            )
    if "audit.jsonl" in present and "audit.jsonl" in listed:
        check.problems.extend(_check_audit_excerpt(archive.read("audit.jsonl")))


def _hash_member(archive: zipfile.ZipFile, name: str, check: PackageCheck) -> tuple[str | None, int]:
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(name) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        check.problems.append(f"{name}: cannot be read from the ZIP ({exc}) (corrupted?)")
        return None, 0
    return digest.hexdigest(), size


def audit_records(data: bytes) -> list[dict[str, Any]]:
    """The records of an ``audit.jsonl``."""
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def _check_audit_excerpt(data: bytes) -> list[str]:
    """Each record's hash recomputed from its fields; consecutive records must link."""
    problems: list[str] = []
    previous: dict[str, Any] | None = None
    try:
        records = audit_records(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"audit.jsonl: not JSON lines ({exc})"]
    for number, record in enumerate(records, start=1):
        try:
            at = datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00"))
            computed = record_hash(
                int(record["id"]),
                at,
                record["actor"],
                record["action"],
                record["target"],
                record["detail"],
                record["prev_hash"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"audit.jsonl line {number}: not an audit record ({exc!r})")
            continue
        if computed != record.get("hash"):
            problems.append(f"audit.jsonl record {record['id']}: hash mismatch (edited?)")
        elif (
            previous is not None
            and previous["id"] + 1 == record["id"]
            and record["prev_hash"] != previous["hash"]
        ):
            problems.append(
                f"audit.jsonl record {record['id']}: prev_hash does not match record {previous['id']}"
            )
        previous = record
    return problems


def check_against_chain(database: Database, path: Path, check: PackageCheck) -> None:
    """Add to ``check`` what disagrees with the hub's audit chain (run ``hwarang audit verify`` too)."""
    if check.manifest is None:
        return
    with zipfile.ZipFile(path) as archive:
        records = audit_records(archive.read("audit.jsonl")) if "audit.jsonl" in archive.namelist() else []
    wanted = {int(record["id"]): record.get("hash") for record in records}
    incident = check.manifest.incident_id
    with database.session() as session:
        stored: dict[int, str | None] = {}
        ids = sorted(wanted)
        for start in range(0, len(ids), 500):
            stmt = select(AuditRow.id, AuditRow.hash).where(AuditRow.id.in_(ids[start : start + 500]))
            stored.update({int(record_id): digest for record_id, digest in session.execute(stmt)})
        exports = session.scalars(
            select(AuditRow).where(
                AuditRow.action == EXPORT_ACTION, AuditRow.target == export_target(incident)
            )
        ).all()
    for record_id, digest in sorted(wanted.items()):
        if record_id not in stored:
            check.problems.append(f"audit.jsonl record {record_id}: not in the hub's audit trail")
        elif stored[record_id] != digest:
            check.problems.append(f"audit.jsonl record {record_id}: hash differs from the hub's audit trail")
    if not any(row.detail.get("manifest_sha256") == check.manifest_sha256 for row in exports):
        check.problems.append(
            f"no {EXPORT_ACTION} record of incident {incident} holds manifest SHA-256 {check.manifest_sha256}"
        )
