"""Full-text search over incidents: titles, rule and camera names, and operators' notes.

SQLite uses an FTS5 table (``unicode61`` tokens: Korean words are space-separated), PostgreSQL a
``tsvector`` column (``simple`` configuration) with a GIN index; every query word matches as a
prefix ("부두" finds "부두에서"), all words must match, best matches first.

The index is derived data, kept outside the migrated schema: created on first use, filled from
the incidents, and brought up to date before each query from the journal's seq (incidents changed
since) and the notes' ids (notes added since). Each process starts from seq 0 and rewrites the
documents it reads (same text, so hub processes sharing a PostgreSQL store agree). Dropping the table
loses nothing; the next query rebuilds it.
"""

import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select, text

from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentRow, NoteRow

TABLE = "incident_search"
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchError(ValueError):
    """A query with nothing to search for."""


def query_words(query: str) -> list[str]:
    """The words of a user's query (letters and digits; punctuation and operators dropped)."""
    words = _WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if not words:
        raise SearchError(f"search for words (letters or digits), got {query!r}")
    return words


class IncidentSearch:
    """The incident text index of one store (thread-safe)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._lock = threading.Lock()
        self._created = False
        self._seq = -1
        self._note_id = 0

    def search(self, query: str, *, limit: int = 50) -> list[uuid.UUID]:
        """Ids of incidents matching every word of ``query``, best first (SearchError when empty)."""
        words = query_words(query)
        with self._lock, self._db.engine.begin() as conn:
            self._sync(conn)
            if self._db.dialect == "postgresql":
                expr = " & ".join(f"{w}:*" for w in words)
                rows = conn.execute(
                    text(
                        f"SELECT incident_id FROM {TABLE} WHERE tsv @@ to_tsquery('simple', :q) "
                        "ORDER BY ts_rank(tsv, to_tsquery('simple', :q)) DESC, incident_id LIMIT :n"
                    ),
                    {"q": expr, "n": limit},
                )
            else:
                expr = " ".join('"' + w.replace('"', "") + '"*' for w in words)
                rows = conn.execute(
                    text(f"SELECT incident_id FROM {TABLE} WHERE {TABLE} MATCH :q ORDER BY rank LIMIT :n"),
                    {"q": expr, "n": limit},
                )
            return [uuid.UUID(str(row[0])) for row in rows]

    def _create(self, conn: Connection) -> None:
        if self._db.dialect == "postgresql":
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (incident_id uuid PRIMARY KEY, body text NOT NULL, "
                    "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
                )
            )
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_tsv ON {TABLE} USING gin (tsv)"))
        else:
            conn.execute(
                text(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
                    "incident_id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2')"
                )
            )
        self._created = True

    def _sync(self, conn: Connection) -> None:
        if not self._created:
            self._create(conn)
        changed = {
            row[0]: row[1]
            for row in conn.execute(
                select(IncidentRow.id, IncidentRow.seq).where(IncidentRow.seq > self._seq)
            )
        }
        noted = conn.execute(select(NoteRow.incident_id, NoteRow.id).where(NoteRow.id > self._note_id)).all()
        ids = set(changed) | {row[0] for row in noted}
        if ids:
            self._index(conn, ids)
        if changed:
            self._seq = max(self._seq, *changed.values())
        if noted:
            self._note_id = max(self._note_id, *(row[1] for row in noted))

    def _index(self, conn: Connection, incident_ids: Iterable[uuid.UUID]) -> None:
        ids = list(incident_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            docs: dict[uuid.UUID, list[str]] = {}
            columns = (IncidentRow.id, IncidentRow.title, IncidentRow.rule_name, IncidentRow.camera_name,
                       IncidentRow.camera_id)  # fmt: skip
            for row in conn.execute(select(*columns).where(IncidentRow.id.in_(chunk))):
                docs[row[0]] = [str(part) for part in row[1:] if part]
            for incident_id, note in conn.execute(
                select(NoteRow.incident_id, NoteRow.text).where(NoteRow.incident_id.in_(chunk))
            ):
                docs.setdefault(incident_id, []).append(note)
            rows: list[dict[str, Any]] = [
                {"id": self._key(i), "body": " ".join(parts)} for i, parts in docs.items()
            ]
            if self._db.dialect == "postgresql":
                if rows:
                    conn.execute(
                        text(
                            f"INSERT INTO {TABLE} (incident_id, body) VALUES (:id, :body) "
                            "ON CONFLICT (incident_id) DO UPDATE SET body = excluded.body"
                        ),
                        rows,
                    )
                continue
            keys = [self._key(i) for i in chunk]
            conn.execute(
                text(f"DELETE FROM {TABLE} WHERE incident_id IN ({_marks(len(keys))})"), _params(keys)
            )
            if rows:
                conn.execute(text(f"INSERT INTO {TABLE} (incident_id, body) VALUES (:id, :body)"), rows)

    def _key(self, incident_id: uuid.UUID) -> uuid.UUID | str:
        """How the incidents table stores the id: a uuid on PostgreSQL, 32 hex digits on SQLite."""
        return incident_id if self._db.dialect == "postgresql" else incident_id.hex

    def size(self) -> int:
        """Documents in the index (after bringing it up to date)."""
        with self._lock, self._db.engine.begin() as conn:
            self._sync(conn)
            return int(conn.execute(select(func.count()).select_from(text(TABLE))).scalar_one())


def _marks(n: int) -> str:
    return ", ".join(f":k{i}" for i in range(n))


def _params(keys: list[uuid.UUID | str]) -> dict[str, uuid.UUID | str]:
    return {f"k{i}": key for i, key in enumerate(keys)}
