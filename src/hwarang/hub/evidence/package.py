"""Evidence packages: one incident exported as a ZIP with a manifest of SHA-256 hashes.

The package holds ``incident.json``, ``events.jsonl``, ``timeline.json`` (incident_history),
``notes.json``, ``tasks.json``, ``attachments.json`` with the bytes under ``attachments/``,
``snapshots/<sha256>.jpg``, ``clips/<sha256>.mp4`` (the events' clips held by the hub), and
``audit.jsonl`` (the audit records about the incident, its events and snapshots, with their chain
hashes; a clip's ``evidence.clip`` record names its event).
``manifest.json`` comes last and lists every other file with its SHA-256 and size; the SHA-256 of
the manifest itself is returned (and audited by the caller), so the whole package is pinned by one
hash. The ZIP is written entry by entry into a temporary file beside ``out``, never held in memory.
"""

import hashlib
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import AwareDatetime, Field
from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import DeclarativeBase, Session

import hwarang
from hwarang.domain import DomainModel
from hwarang.domain.base import ValueModel
from hwarang.hub.errors import NotFoundError
from hwarang.hub.evidence.audit import add_audit, rfc3339_utc
from hwarang.hub.evidence.clips import clip_store
from hwarang.hub.evidence.origin import owned_snapshots
from hwarang.hub.evidence.store import EvidenceStore, is_sha256
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import incidents_from_rows
from hwarang.hub.store.models import (
    HUB_STATE_ID,
    AttachmentRow,
    AuditRow,
    EventRow,
    HubStateRow,
    IncidentHistoryRow,
    IncidentRow,
    NoteRow,
    TaskRow,
)

MANIFEST_NAME = "manifest.json"
EXPORT_ACTION = "evidence.export"
PACKAGE_KIND = "hwarang.evidence-package"
_CHUNK = 1 << 20
_IN_CHUNK = 500
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PackageFile(ValueModel):
    """One file of the package."""

    path: str = Field(description="Path inside the ZIP.")
    sha256: str = Field(description="SHA-256 (hex) of the file's bytes.")
    size: int = Field(ge=0, description="Size in bytes.")


class MissingEvidence(ValueModel):
    """Evidence the incident refers to but the hub does not hold."""

    path: str = Field(description="Where it would be in the package.")
    reason: str


class AuditExcerpt(ValueModel):
    """Where ``audit.jsonl`` sits in the hub's hash chain at export time."""

    records: int = Field(description="Records in audit.jsonl.")
    chain_last_id: int = Field(description="The chain's last record id when the package was built.")
    chain_head: str | None = Field(description="The chain's head hash when the package was built.")


class PackageManifest(DomainModel):
    """``manifest.json``."""

    kind: str = PACKAGE_KIND
    incident_id: uuid.UUID
    created_at: AwareDatetime
    creator: str = Field(description="Who exported it (username, or 'cli:<user>').")
    hwarang_version: str
    files: list[PackageFile]
    clips: list[str] = Field(description="Clip files in clips/ (MP4 by SHA-256, also listed in files).")
    missing: list[MissingEvidence] = Field(default_factory=list)
    audit: AuditExcerpt


@dataclass(frozen=True, slots=True)
class BuiltPackage:
    """A package written to ``path``."""

    path: Path
    manifest: PackageManifest
    manifest_sha256: str
    size: int


class _ZipOut:
    """Adds entries to a ZIP, hashing each one as it is written."""

    def __init__(self, handle: IO[bytes], created_at: datetime) -> None:
        self.zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.files: list[PackageFile] = []
        self._date_time = created_at.astimezone(UTC).timetuple()[:6]

    def _info(self, path: str, *, compress: bool, size: int = 0) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.file_size = size
        return info

    @contextmanager
    def entry(self, path: str, *, compress: bool = True, size: int | None = None) -> Iterator["_Hashing"]:
        """Write one entry; ``size`` when known up front (else room for ZIP64 is reserved)."""
        info = self._info(path, compress=compress, size=size or 0)
        with self.zip.open(info, "w", force_zip64=size is None) as raw:
            sink = _Hashing(raw)
            yield sink
        self.files.append(PackageFile(path=path, sha256=sink.digest.hexdigest(), size=sink.size))

    def json(self, path: str, value: Any) -> None:
        data = (json.dumps(value, indent=2, ensure_ascii=False, default=_json_default) + "\n").encode()
        with self.entry(path, size=len(data)) as sink:
            sink.write(data)

    def copy(self, path: str, source: Path, *, compress: bool) -> None:
        with (
            source.open("rb") as handle,
            self.entry(path, compress=compress, size=source.stat().st_size) as sink,
        ):
            while chunk := handle.read(_CHUNK):
                sink.write(chunk)


class _Hashing:
    """A write-through sink that hashes and counts."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._raw.write(data)
        self.digest.update(data)
        self.size += len(data)

    def line(self, value: Any) -> None:
        self.write(
            json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default).encode() + b"\n"
        )


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return rfc3339_utc(value)
    if isinstance(value, date | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _row_json(row: DeclarativeBase) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}


def export_target(incident_id: uuid.UUID) -> str:
    """The audit target of an export of ``incident_id``."""
    return f"incident:{incident_id}"


def export_package(
    database: Database,
    evidence: EvidenceStore,
    incident_id: uuid.UUID,
    out: Path,
    *,
    creator: str,
    detail: dict[str, Any] | None = None,
) -> BuiltPackage:
    """:func:`build_package`, then audit ``evidence.export`` with the manifest's SHA-256.

    The audit record binds the package to the hash chain: ``hwarang evidence verify --config``
    checks that such a record holds the package's manifest hash.
    """
    built = build_package(database, evidence, incident_id, out, creator=creator)
    record = {
        "manifest_sha256": built.manifest_sha256,
        "files": len(built.manifest.files),
        "bytes": built.size,
        **(detail or {}),
    }
    with database.session(write=True) as session:
        add_audit(session, creator, EXPORT_ACTION, export_target(incident_id), record)
    return built


def build_package(
    database: Database,
    evidence: EvidenceStore,
    incident_id: uuid.UUID,
    out: Path,
    *,
    creator: str,
    now: datetime | None = None,
) -> BuiltPackage:
    """Write the package of ``incident_id`` to ``out`` (replaced atomically); NotFoundError when missing."""
    created_at = (now or datetime.now(UTC)).astimezone(UTC)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".package-", suffix=".zip.part", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle, database.session() as session:
            zip_out = _ZipOut(handle, created_at)
            with zip_out.zip:
                manifest = _write_contents(session, evidence, zip_out, incident_id, creator, created_at)
                manifest_bytes = (manifest.model_dump_json(indent=2) + "\n").encode()
                with zip_out.entry(MANIFEST_NAME, size=len(manifest_bytes)) as sink:
                    sink.write(manifest_bytes)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BuiltPackage(
        path=out,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        size=out.stat().st_size,
    )


def _write_contents(
    session: Session,
    evidence: EvidenceStore,
    zip_out: _ZipOut,
    incident_id: uuid.UUID,
    creator: str,
    created_at: datetime,
) -> PackageManifest:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"incident {incident_id} not found")
    incident = incidents_from_rows(session, [row])[0]
    zip_out.json("incident.json", incident.model_dump(mode="json"))
    referenced: list[tuple[str, str]] = []
    clips: set[str] = set()
    event_ids: list[uuid.UUID] = []
    events = (
        select(EventRow)
        .where(EventRow.incident_id == incident_id)
        .order_by(EventRow.occurred_at, EventRow.id)
    )
    with zip_out.entry("events.jsonl") as sink:
        for event in session.scalars(events.execution_options(yield_per=500)):
            sink.line(event.payload)
            event_ids.append(event.id)
            if event.snapshot_sha256:
                referenced.append((event.snapshot_sha256, event.center_id))
            clip = event.payload.get("clip")
            if isinstance(clip, dict) and isinstance(clip.get("sha256"), str):
                clips.add(clip["sha256"])
    snapshots = owned_snapshots(session, referenced)  # a hash named by another center's event is left out
    for name, model, order in (
        ("timeline.json", IncidentHistoryRow, IncidentHistoryRow.id),
        ("notes.json", NoteRow, NoteRow.id),
        ("tasks.json", TaskRow, TaskRow.created_at),
    ):
        stmt = select(model).where(model.incident_id == incident_id).order_by(order)
        zip_out.json(name, [_row_json(r) for r in session.scalars(stmt)])
    missing = _write_attachments(session, evidence, zip_out, incident_id)
    missing += _write_snapshots(evidence, zip_out, sorted(snapshots))
    clip_paths, clips_missing = _write_clips(clip_store(evidence), zip_out, sorted(clips))
    missing += clips_missing
    excerpt = _write_audit(session, zip_out, incident_id, event_ids, sorted(snapshots))
    return PackageManifest(
        incident_id=incident_id,
        created_at=created_at,
        creator=creator,
        hwarang_version=hwarang.__version__,
        files=list(zip_out.files),
        clips=clip_paths,
        missing=missing,
        audit=excerpt,
    )


def _write_attachments(
    session: Session, evidence: EvidenceStore, zip_out: _ZipOut, incident_id: uuid.UUID
) -> list[MissingEvidence]:
    stmt = select(AttachmentRow).where(AttachmentRow.incident_id == incident_id).order_by(AttachmentRow.at)
    rows = list(session.scalars(stmt))
    zip_out.json("attachments.json", [_row_json(r) for r in rows])
    missing: list[MissingEvidence] = []
    for row in rows:
        path = f"attachments/{row.sha256}-{_UNSAFE_NAME.sub('_', row.filename)[:120]}"
        source = evidence.path(row.sha256)
        if source is None:
            missing.append(MissingEvidence(path=path, reason="not in the hub's evidence store"))
        else:
            zip_out.copy(path, source, compress=True)
    return missing


def _write_snapshots(evidence: EvidenceStore, zip_out: _ZipOut, hashes: list[str]) -> list[MissingEvidence]:
    missing: list[MissingEvidence] = []
    for sha256 in hashes:
        path = f"snapshots/{sha256}.jpg"
        source = evidence.path(sha256) if is_sha256(sha256) else None
        if source is None:
            missing.append(MissingEvidence(path=path, reason="not in the hub's evidence store"))
        else:
            zip_out.copy(path, source, compress=False)  # JPEG: already compressed
    return missing


def _write_clips(
    clips: EvidenceStore, zip_out: _ZipOut, hashes: list[str]
) -> tuple[list[str], list[MissingEvidence]]:
    written: list[str] = []
    missing: list[MissingEvidence] = []
    for sha256 in hashes:
        path = f"clips/{sha256}.mp4"
        source = clips.path(sha256) if is_sha256(sha256) else None
        if source is None:
            missing.append(MissingEvidence(path=path, reason="clip not (yet) in the hub's clip store"))
        else:
            zip_out.copy(path, source, compress=False)  # H.264: already compressed
            written.append(path)
    return written, missing


def _write_audit(
    session: Session,
    zip_out: _ZipOut,
    incident_id: uuid.UUID,
    event_ids: list[uuid.UUID],
    snapshots: list[str],
) -> AuditExcerpt:
    state = session.execute(
        select(HubStateRow.audit_last_id, HubStateRow.audit_head).where(HubStateRow.id == HUB_STATE_ID)
    ).one()
    found: dict[int, AuditRow] = {}
    for condition in _audit_conditions(incident_id, event_ids, snapshots):
        stmt = select(AuditRow).where(condition, AuditRow.id <= state.audit_last_id)
        for audit in session.scalars(stmt.execution_options(yield_per=1000)):
            found.setdefault(audit.id, audit)
    with zip_out.entry("audit.jsonl") as sink:
        for record_id in sorted(found):
            sink.line(_row_json(found[record_id]))
    return AuditExcerpt(
        records=len(found), chain_last_id=int(state.audit_last_id), chain_head=state.audit_head
    )


def _audit_conditions(
    incident_id: uuid.UUID, event_ids: list[uuid.UUID], snapshots: list[str]
) -> Iterable[Any]:
    """Records naming the incident (target or detail), one of its events, or one of its snapshots."""
    text = str(incident_id)
    yield or_(AuditRow.target.contains(text), cast(AuditRow.detail, Text).contains(text))
    targets = (
        [f"event:{e}" for e in event_ids] + [str(e) for e in event_ids] + [f"snapshot:{s}" for s in snapshots]
    )
    for start in range(0, len(targets), _IN_CHUNK):
        yield AuditRow.target.in_(targets[start : start + _IN_CHUNK])
