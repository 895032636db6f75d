"""Event clips at the hub: assembled from bus chunks, verified, stored by SHA-256, linked to events.

Chunks may arrive in any order and more than once (a replay after a cut, a redelivery): each part is
kept under ``clips/.incoming/<sha256>/`` until all have arrived, then the whole is verified against
its SHA-256 and stored once in the clip store (``<evidence>/clips/<xx>/<sha256>.mp4``). Linking
writes the clip reference into each event's payload and audits ``evidence.clip`` on the event,
so evidence packages list the clip and its audit trail. Storage is bounded: clips older than
``max_age_s``, then the oldest while the store is over ``max_bytes``, are deleted (an exported
evidence package keeps its own copy).
"""

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError

from hwarang.domain import ClipManifest
from hwarang.hub.errors import IngestError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.evidence.store import EvidenceStore, is_sha256
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow

logger = logging.getLogger(__name__)

CLIP_ACTION = "evidence.clip"
CLIP_ACTOR = "system:clips"
CLIP_SUFFIX = ".mp4"
_INCOMING = ".incoming"
_MAX_PARTS = 4096


class ChunkOutcome(StrEnum):
    """What one chunk did."""

    PARTIAL = "partial"
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """The outcome and the events of the clip not (yet) known to the hub."""

    outcome: ChunkOutcome
    sha256: str
    missing_events: tuple[uuid.UUID, ...] = ()


def clip_store(evidence: EvidenceStore) -> EvidenceStore:
    """The clip store beside the snapshots of ``evidence``."""
    return EvidenceStore(evidence.root / "clips", suffix=CLIP_SUFFIX)


class ClipIntake:
    """Assembles, verifies, stores and links clips (thread-safe per clip; one worker calls it)."""

    def __init__(
        self,
        database: Database,
        evidence: EvidenceStore,
        *,
        max_bytes: int = 50 * 1024**3,
        max_age_s: float = 90 * 86400.0,
    ) -> None:
        if max_bytes < 1 or max_age_s <= 0:
            raise ValueError("clip storage bounds must be positive")
        self._database = database
        self.store = clip_store(evidence)
        self._incoming = self.store.root / _INCOMING
        self._max_bytes = max_bytes
        self._max_age_s = max_age_s
        self.pruned = 0

    def chunk(self, sha256: str, part: int, parts: int, manifest_json: str, data: bytes) -> ChunkResult:
        """Take one chunk; IngestError for a malformed chunk or a clip whose bytes do not verify."""
        manifest = _manifest(sha256, manifest_json)
        if not 0 <= part < parts <= _MAX_PARTS:
            raise IngestError(f"clip {sha256}: part {part} of {parts} is out of range")
        if self.store.has(sha256):
            return ChunkResult(ChunkOutcome.DUPLICATE, sha256, self.link(manifest))
        folder = self._incoming / sha256
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{part:05d}-of-{parts:05d}"
        if not target.is_file():
            tmp = folder / f".{target.name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(target)
        held = sorted(p for p in folder.iterdir() if p.name.endswith(f"-of-{parts:05d}"))
        if len(held) < parts:
            return ChunkResult(ChunkOutcome.PARTIAL, sha256)
        whole = b"".join(p.read_bytes() for p in held)
        try:
            self.store.put_verified(whole, sha256)
        except IngestError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("clip %s stored (%d bytes, %d parts)", sha256, len(whole), parts)
        self.prune()
        return ChunkResult(ChunkOutcome.STORED, sha256, self.link(manifest))

    def link(self, manifest: ClipManifest) -> tuple[uuid.UUID, ...]:
        """Write the clip reference into its events (once each, audited); returns the unknown ones."""
        ref = manifest.clip.model_dump(mode="json")
        missing: list[uuid.UUID] = []
        with self._database.session(write=True) as session:
            for event_id in manifest.event_ids:
                row = session.get(EventRow, event_id)
                if row is None:
                    missing.append(event_id)
                    continue
                if row.payload.get("clip") == ref:
                    continue
                row.payload = {**row.payload, "clip": ref}
                detail = {"sha256": manifest.clip.sha256, "camera_id": manifest.camera_id}
                add_audit(session, CLIP_ACTOR, CLIP_ACTION, f"event:{event_id}", detail)
        return tuple(missing)

    def prune(self, now: float | None = None) -> int:
        """Delete clips past ``max_age_s``, then the oldest while over ``max_bytes``; returns how many."""
        now = time.time() if now is None else now
        files: list[tuple[float, int, Path]] = []
        if not self.store.root.is_dir():
            return 0
        for path in self.store.root.glob(f"??/*{CLIP_SUFFIX}"):
            if is_sha256(path.stem):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        files.sort()
        total = sum(size for _, size, _ in files)
        removed = 0
        for mtime, size, path in files:
            if now - mtime <= self._max_age_s and total <= self._max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
            logger.info("clip %s deleted by retention", path.stem)
        self.pruned += removed
        return removed


def _manifest(sha256: str, manifest_json: str) -> ClipManifest:
    if not is_sha256(sha256):
        raise IngestError(f"clip name {sha256[:80]!r} is not a SHA-256")
    try:
        manifest = ClipManifest.model_validate_json(manifest_json)
    except ValidationError as exc:
        raise IngestError(f"clip {sha256}: invalid manifest: {exc.errors(include_url=False)[:1]}") from None
    if manifest.clip.sha256 != sha256:
        raise IngestError(f"clip chunk names {sha256}, its manifest {manifest.clip.sha256}")
    return manifest
