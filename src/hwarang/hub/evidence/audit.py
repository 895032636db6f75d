"""Audit records: every state change and every sensitive read leaves one, in a hash chain.

Records are append-only and chained: record ``n`` holds ``prev_hash``, the hash of record ``n - 1``
(:data:`GENESIS_HASH` for record 1), and ``hash``, the SHA-256 of its own canonical form
(:func:`record_hash`). Ids come from ``hub_state.audit_last_id`` (contiguous, no gaps) and
``hub_state.audit_head`` holds the hash of the last record, so editing, deleting or inserting a
record shows up in :func:`hwarang.hub.evidence.chain.verify_chain`.

Allocation locks the ``hub_state`` row until the transaction commits (``UPDATE ... RETURNING``), so
concurrent writers append one after the other on PostgreSQL and SQLite alike. Add audit records
late in a transaction: every other writer that audits waits for its commit.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import AwareDatetime, Field
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from hwarang.domain import DomainModel
from hwarang.hub.errors import StoreError
from hwarang.hub.store.bulk_write import insert_rows
from hwarang.hub.store.models import HUB_STATE_ID, AuditRow, HubStateRow

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first record."""
ACTOR_MAX, ACTION_MAX, TARGET_MAX = 128, 64, 256
_FLOAT_AS_INT_FROM = 1e16
"""Floats this large are whole numbers that PostgreSQL's JSONB gives back as integers."""
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditEntry(DomainModel):
    """One audit record as the API shows it."""

    id: int = Field(description="Record number: 1, 2, 3... without gaps.")
    at: AwareDatetime = Field(description="When it happened (UTC).")
    actor: str = Field(description="Who: a username, or 'system:<component>'.")
    action: str = Field(description="What, dotted: 'incident.create', 'auth.login', 'evidence.view'.")
    target: str = Field(description="Which object: an incident id, a username, a snapshot hash.")
    detail: dict[str, Any] = Field(default_factory=dict, description="Extra JSON context.")
    prev_hash: str | None = Field(default=None, description="SHA-256 (hex) of the previous record.")
    hash: str | None = Field(default=None, description="SHA-256 (hex) of this record's canonical form.")


def rfc3339_utc(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always with microseconds)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} in an audit record; give it a timezone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def normalise_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """``detail`` as JSON that every engine stores and gives back unchanged.

    Keys become strings, tuples lists, other objects (UUIDs, datetimes) their ``str``; floats that
    JSONB would turn into integers become integers, ``-0.0`` becomes ``0.0``, NaN and infinities
    their names.
    """
    return cast(dict[str, Any], _normalise(dict(detail or {})))


def _normalise(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= _FLOAT_AS_INT_FROM:
            return int(value)
        return value + 0.0  # -0.0 -> 0.0
    if isinstance(value, Mapping):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    return str(value)


def canonical_record(
    record_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed: JSON with sorted keys, no spaces, UTF-8, ``at`` in RFC 3339 UTC."""
    return _canonical(record_id, rfc3339_utc(at), actor, action, target, normalise_detail(detail), prev_hash)


def _canonical(
    record_id: int, at: str, actor: str, action: str, target: str, detail: dict[str, Any], prev_hash: str
) -> bytes:
    """:func:`canonical_record` of an already normalised ``detail`` and formatted ``at``."""
    document = {
        "id": record_id,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return _ENCODER.encode(document).encode("utf-8")


def record_hash(
    record_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of :func:`canonical_record`."""
    return hashlib.sha256(
        canonical_record(record_id, at, actor, action, target, detail, prev_hash)
    ).hexdigest()


def add_audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Append one audit record in ``session``'s transaction (committed with the change it records)."""
    add_audits(session, [{"actor": actor, "action": action, "target": target, "detail": detail, "at": at}])


def add_audits(session: Session, records: Iterable[Mapping[str, Any]]) -> list[int]:
    """Append records (mappings with ``actor``, ``action``, ``target``, optional ``detail``, ``at``).

    One ``hub_state`` update allocates their ids, one COPY (executemany on SQLite) inserts them;
    returns the ids.
    """
    now = datetime.now(UTC)
    prepared = [_prepare(record, now, index) for index, record in enumerate(records)]
    if not prepared:
        return []
    last_id, head = _allocate(session, len(prepared))
    prev = head or GENESIS_HASH
    at_texts: dict[datetime, str] = {}  # a batch mostly shares one time
    for record_id, row in enumerate(prepared, start=last_id - len(prepared) + 1):
        at = row["at"]
        at_text = at_texts.get(at) or at_texts.setdefault(at, rfc3339_utc(at))
        canonical = _canonical(
            record_id, at_text, row["actor"], row["action"], row["target"], row["detail"], prev
        )
        digest = hashlib.sha256(canonical).hexdigest()
        row.update(id=record_id, prev_hash=prev, hash=digest)
        prev = digest
    insert_rows(session, cast(Table, AuditRow.__table__), prepared)
    state = update(HubStateRow).where(HubStateRow.id == HUB_STATE_ID).values(audit_head=prev)
    session.execute(state.execution_options(synchronize_session=False))
    return [row["id"] for row in prepared]


def _prepare(record: Mapping[str, Any], now: datetime, index: int) -> dict[str, Any]:
    actor, action = record.get("actor"), record.get("action")
    if not actor or not action:
        raise ValueError(
            f"audit record {index} needs an actor and an action, got actor={actor!r} action={action!r}"
        )
    at = record.get("at") or now
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"audit record {index}: naive datetime {at.isoformat()}; give it a timezone")
    return {
        "at": at.astimezone(UTC),
        "actor": str(actor)[:ACTOR_MAX],
        "action": str(action)[:ACTION_MAX],
        "target": str(record.get("target") or "")[:TARGET_MAX],
        "detail": normalise_detail(record.get("detail")),
    }


def _allocate(session: Session, count: int) -> tuple[int, str | None]:
    """Reserve ``count`` ids; returns the last one and the head before them.

    The UPDATE row-locks ``hub_state`` until commit (SQLite: takes the write lock), and it leaves
    ``audit_head`` alone, so RETURNING gives the head as the previous writer committed it.
    """
    stmt = (
        update(HubStateRow)
        .where(HubStateRow.id == HUB_STATE_ID)
        .values(audit_last_id=HubStateRow.audit_last_id + count)
        .returning(HubStateRow.audit_last_id, HubStateRow.audit_head)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise StoreError("hub_state row missing: run migrations first (hwarang hub migrates at start)")
    return int(row[0]), row[1]


def audit_from_row(row: AuditRow) -> AuditEntry:
    """The domain view of an audit row."""
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        detail=row.detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def query_audit(
    session: Session,
    *,
    limit: int,
    before_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """Records newest first: ids below ``before_id`` (paging), ``actor`` exactly, ``action`` exactly
    or as a dotted prefix ending in ``.`` (``"incident."``), ``target`` containing the text given."""
    stmt = select(AuditRow)
    if before_id is not None:
        stmt = stmt.where(AuditRow.id < before_id)
    if actor:
        stmt = stmt.where(AuditRow.actor == actor)
    if action:
        prefix = action.endswith(".")
        stmt = stmt.where(
            AuditRow.action.startswith(action, autoescape=True) if prefix else AuditRow.action == action
        )
    if target:
        stmt = stmt.where(AuditRow.target.contains(target, autoescape=True))
    stmt = stmt.order_by(AuditRow.id.desc()).limit(limit)
    return [audit_from_row(row) for row in session.scalars(stmt)]
