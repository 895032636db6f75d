"""Checking the audit trail's hash chain: the first edited, deleted or inserted record, by id.

The walk reads records in id order from one consistent snapshot (REPEATABLE READ on PostgreSQL,
one read transaction under WAL on SQLite), streamed in batches, so memory stays constant and
records appended meanwhile are neither seen nor blamed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import AwareDatetime, Field
from sqlalchemy import Connection, Row, Table, select
from sqlalchemy.exc import SQLAlchemyError

from hwarang.domain import DomainModel
from hwarang.domain.base import ValueModel
from hwarang.hub.errors import StoreError
from hwarang.hub.evidence.audit import GENESIS_HASH, record_hash
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import HUB_STATE_ID, AuditRow, HubStateRow

STREAM_BATCH = 2000
ProgressCallback = Callable[[int, int], None]
"""Called with (records checked, records expected) every :data:`STREAM_BATCH` records."""


class ChainProblem(ValueModel):
    """The first thing wrong with the trail."""

    record_id: int = Field(description="The first bad record (the missing one for a deletion).")
    kind: str = Field(
        description="hash_mismatch, broken_link, missing, unexpected, unhashed or head_mismatch."
    )
    message: str = Field(description="What is wrong, naming the record.")


class ChainReport(DomainModel):
    """The outcome of walking the trail."""

    ok: bool = Field(description="True when every record and the head check out.")
    records: int = Field(description="Records read.")
    last_id: int = Field(description="The last record id according to hub_state.")
    head: str | None = Field(description="The head hash according to hub_state (None: empty trail).")
    first_at: AwareDatetime | None = Field(default=None, description="Time of the first record read.")
    last_at: AwareDatetime | None = Field(default=None, description="Time of the last record read.")
    seconds: float = Field(description="How long the walk took.")
    problem: ChainProblem | None = Field(default=None, description="The first problem; None when ok.")

    def summary(self) -> str:
        """One line for people: what was checked, or the first bad record."""
        if self.problem is not None:
            return self.problem.message
        if self.records == 0:
            return "audit trail is empty"
        return (
            f"{self.records} audit records 1..{self.last_id} verified "
            f"({_when(self.first_at)} .. {_when(self.last_at)}); head {self.head}"
        )


def _when(value: datetime | None) -> str:
    return "?" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(slots=True)
class _Walk:
    """State of the walk; :meth:`step` returns the first problem it meets."""

    last_id: int
    expected: int = 1
    prev: str = GENESIS_HASH
    first_at: datetime | None = None
    last_at: datetime | None = None

    def step(self, row: "Row[Any]") -> ChainProblem | None:
        record_id = int(row.id)
        if record_id > self.last_id:
            return ChainProblem(
                record_id=record_id,
                kind="unexpected",
                message=f"record {record_id}: beyond the last id {self.last_id} in hub_state (inserted?)",
            )
        if record_id != self.expected:
            return _missing(self.expected, f"the next record present is {record_id}")
        if row.hash is None or row.prev_hash is None:
            return ChainProblem(
                record_id=record_id,
                kind="unhashed",
                message=f"record {record_id}: no hash (written outside the audit module?)",
            )
        computed = record_hash(
            record_id, row.at, row.actor, row.action, row.target, row.detail or {}, row.prev_hash
        )
        if computed != row.hash:
            return ChainProblem(
                record_id=record_id,
                kind="hash_mismatch",
                message=f"record {record_id}: hash mismatch (edited?)",
            )
        if row.prev_hash != self.prev:
            return ChainProblem(
                record_id=record_id,
                kind="broken_link",
                message=f"record {record_id}: prev_hash does not match the hash of record {record_id - 1} "
                f"(record {record_id - 1} re-hashed, or this link rewritten)",
            )
        self.prev = row.hash
        self.expected += 1
        self.first_at = self.first_at or row.at
        self.last_at = row.at
        return None

    def finish(self, head: str | None) -> ChainProblem | None:
        if self.expected <= self.last_id:
            return _missing(self.expected, f"hub_state says the trail ends at record {self.last_id}")
        if (head or GENESIS_HASH) != self.prev:
            return ChainProblem(
                record_id=self.last_id,
                kind="head_mismatch",
                message=f"record {self.last_id}: its hash {self.prev} is not the head {head} in hub_state "
                "(last record replaced?)",
            )
        return None


def _missing(record_id: int, why: str) -> ChainProblem:
    return ChainProblem(
        record_id=record_id, kind="missing", message=f"record {record_id} missing (deleted?): {why}"
    )


def verify_chain(database: Database, *, progress: ProgressCallback | None = None) -> ChainReport:
    """Walk the whole trail and report the first bad record; StoreError when it cannot be read."""
    started = time.monotonic()
    try:
        with database.engine.connect() as connection:
            if database.dialect == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                return _walk(connection, started, progress)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the audit trail of {database.masked_url!r}: {exc}") from exc


def _walk(connection: Connection, started: float, progress: ProgressCallback | None) -> ChainReport:
    state = connection.execute(
        select(HubStateRow.audit_last_id, HubStateRow.audit_head).where(HubStateRow.id == HUB_STATE_ID)
    ).one_or_none()
    if state is None:
        raise StoreError("hub_state row missing: the database was never migrated")
    last_id, head = int(state.audit_last_id), state.audit_head
    table = cast(Table, AuditRow.__table__)
    stmt = select(table).order_by(table.c.id)
    walk = _Walk(last_id)
    records, problem = 0, None
    result = connection.execution_options(yield_per=STREAM_BATCH).execute(stmt)
    for row in result:
        problem = walk.step(row)
        if problem is not None:
            break
        records += 1
        if progress is not None and records % STREAM_BATCH == 0:
            progress(records, last_id)
    result.close()
    if problem is None:
        problem = walk.finish(head)
    if progress is not None:
        progress(records, last_id)
    return ChainReport(
        ok=problem is None,
        records=records,
        last_id=last_id,
        head=head,
        first_at=walk.first_at,
        last_at=walk.last_at,
        seconds=round(time.monotonic() - started, 3),
        problem=problem,
    )
