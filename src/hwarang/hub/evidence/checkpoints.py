"""Audit chain-head checkpoints kept outside the database, so the trail cannot be shortened unnoticed.

The hash chain names any edited, inserted or deleted record *inside* the trail, but someone who
deletes the newest records and rolls ``hub_state`` back to match leaves a shorter chain that still
checks out. The hub therefore copies the chain head (last record id and its hash) out of the
database every few seconds, only when it changed, as an append-only JSON-lines file in its data
directory (``audit-checkpoints.jsonl``, 0600). Each line is sealed with an HMAC-SHA256 under a key
of the data directory (``audit-checkpoint.key``, 0600), so a line cannot be forged or altered
without that key.

:func:`check_against_checkpoints` compares a verified trail with the newest checkpoint: a trail
that ends before it, or whose record at the checkpointed id has another hash, is named.

What it protects against: anyone who can change the database (SQL access, a leaked PostgreSQL
password) but not the hub's data directory. Records written after the newest checkpoint (at most
one interval) are not covered. Copy the file off the machine (backups, the next hub up) to guard
against someone who holds both.
"""

import hashlib
import hmac
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AwareDatetime, Field, ValidationError
from sqlalchemy import select

from hwarang.domain.base import ValueModel
from hwarang.hub.errors import StoreError
from hwarang.hub.evidence.chain import ChainProblem, ChainReport
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import HUB_STATE_ID, AuditRow, HubStateRow

logger = logging.getLogger(__name__)

CHECKPOINTS_FILE = "audit-checkpoints.jsonl"
KEY_FILE = "audit-checkpoint.key"


class AuditCheckpoint(ValueModel):
    """The audit chain's head at one moment, sealed with the site's checkpoint key."""

    last_id: int = Field(ge=0, description="The last audit record id.")
    head: str | None = Field(description="That record's hash (None: empty trail).")
    at: AwareDatetime = Field(description="When the checkpoint was taken.")
    mac: str = Field(default="", description="HMAC-SHA256 (hex) of the other fields under the site key.")

    def body(self) -> bytes:
        """The sealed bytes: the fields other than ``mac``, canonical JSON."""
        fields = {"last_id": self.last_id, "head": self.head, "at": self.at.isoformat()}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


class CheckpointError(StoreError):
    """The checkpoint file cannot be read or holds a line that does not verify."""


class CheckpointFile:
    """Append-only checkpoints in ``folder`` (``audit-checkpoints.jsonl`` and its key)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / CHECKPOINTS_FILE
        self._key_path = folder / KEY_FILE

    def _read_key(self) -> bytes | None:
        try:
            return bytes.fromhex(self._key_path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint key {self._key_path} unreadable: {exc}") from exc

    def _ensure_key(self) -> bytes:
        key = self._read_key()
        if key is not None:
            return key
        key = secrets.token_bytes(32)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key.hex())
        return key

    def append(self, last_id: int, head: str | None) -> AuditCheckpoint:
        """Seal and append a checkpoint of (``last_id``, ``head``), flushed to disk."""
        key = self._ensure_key()
        point = AuditCheckpoint(last_id=last_id, head=head, at=datetime.now(UTC))
        point = point.model_copy(update={"mac": _mac(key, point)})
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(point.model_dump_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
        return point

    def latest(self) -> AuditCheckpoint | None:
        """The newest checkpoint (None when there is none); CheckpointError when a line does not verify."""
        if not self.path.exists():
            return None
        key = self._read_key()
        if key is None:
            raise CheckpointError(f"{self.path} exists but its key {self._key_path} is missing")
        newest: AuditCheckpoint | None = None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CheckpointError(f"checkpoints {self.path} unreadable: {exc}") from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                point = AuditCheckpoint.model_validate_json(line)
            except ValidationError as exc:
                raise CheckpointError(
                    f"{self.path} line {number}: not a checkpoint ({exc.error_count()} errors)"
                ) from None
            if not hmac.compare_digest(point.mac, _mac(key, point)):
                raise CheckpointError(f"{self.path} line {number}: seal does not verify (altered?)")
            if newest is not None and point.last_id < newest.last_id:
                raise CheckpointError(
                    f"{self.path} line {number}: record {point.last_id} after {newest.last_id} "
                    "(the trail was shortened while the hub ran)"
                )
            newest = point
        return newest


def _mac(key: bytes, point: AuditCheckpoint) -> str:
    return hmac.new(key, point.body(), hashlib.sha256).hexdigest()


class AuditCheckpointer:
    """Copies the chain head of ``database`` to ``checkpoints`` when it changed."""

    def __init__(self, database: Database, checkpoints: CheckpointFile) -> None:
        self._database = database
        self._checkpoints = checkpoints
        self._last: tuple[int, str | None] | None = None

    def checkpoint(self) -> AuditCheckpoint | None:
        """Take a checkpoint if the head moved since the last one; the new checkpoint or None."""
        with self._database.session() as session:
            row = session.execute(
                select(HubStateRow.audit_last_id, HubStateRow.audit_head).where(
                    HubStateRow.id == HUB_STATE_ID
                )
            ).one_or_none()
        if row is None:
            return None
        state = (int(row.audit_last_id), row.audit_head)
        if self._last is None:
            latest = self._checkpoints.latest()
            self._last = (latest.last_id, latest.head) if latest is not None else (0, None)
        if state == self._last or state[0] == 0:
            return None
        point = self._checkpoints.append(*state)
        self._last = state
        return point


def check_against_checkpoints(
    database: Database, report: ChainReport, checkpoint: AuditCheckpoint | None
) -> ChainReport:
    """``report``, with a ``truncated`` or ``checkpoint_mismatch`` problem when ``checkpoint`` disagrees."""
    if checkpoint is None or report.problem is not None or checkpoint.last_id == 0:
        return report
    when = checkpoint.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if report.last_id < checkpoint.last_id:
        problem = ChainProblem(
            record_id=report.last_id + 1,
            kind="truncated",
            message=(
                f"audit trail truncated: records {report.last_id + 1}..{checkpoint.last_id} missing; the "
                f"checkpoint of {when} recorded record {checkpoint.last_id} (head {checkpoint.head}) but the "
                f"store ends at record {report.last_id} (last records deleted and hub_state rolled back?)"
            ),
        )
        return report.model_copy(update={"ok": False, "problem": problem})
    with database.session() as session:
        stored = session.scalar(select(AuditRow.hash).where(AuditRow.id == checkpoint.last_id))
    if stored != checkpoint.head:
        problem = ChainProblem(
            record_id=checkpoint.last_id,
            kind="checkpoint_mismatch",
            message=(
                f"record {checkpoint.last_id}: hash {stored} is not {checkpoint.head} of the checkpoint of "
                f"{when} (trail rewritten from there on?)"
            ),
        )
        return report.model_copy(update={"ok": False, "problem": problem})
    return report
