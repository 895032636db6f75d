"""Set-based writes of many rows in one transaction: COPY and UPDATE ... FROM JSON on PostgreSQL.

The ingest writes hundreds of rows per batch to a few tables. Through the driver's executemany
each row is a statement of its own on the server; on PostgreSQL these helpers write them in one
round trip each: :func:`insert_rows` streams them with ``COPY ... FROM STDIN`` and
:func:`update_rows` sends one ``UPDATE ... FROM jsonb_to_recordset(...)`` with the rows as one JSON
document (serialised by the C encoder, far cheaper than the driver's per-element array dumping).
Values pass through the columns' own bind processing (a naive datetime is still refused) and
JSON columns are serialised as SQLAlchemy would. On other dialects (SQLite) both fall back to
SQLAlchemy's executemany, where a statement per row costs little.
"""

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Column, Table, TypeDecorator, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _driver_connection(session: Session) -> Any:
    """The psycopg connection under ``session``'s transaction (same transaction, same snapshot)."""
    return session.connection().connection.driver_connection


@contextmanager
def _driver_errors(dialect: Dialect, sql: str) -> Iterator[None]:
    """Errors as SQLAlchemy raises them from ``execute``: a duplicate key is an ``IntegrityError``,
    a value a column's bind processing refuses (a naive datetime) a ``StatementError``."""
    base = dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(sql, None, exc, base, dialect=dialect) from exc
    except (ValueError, TypeError) as exc:
        raise StatementError(str(exc), sql, None, exc) from exc


def _impl(column: Column[Any], dialect: Dialect) -> TypeEngine[Any]:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.load_dialect_impl(dialect)
    return type_.dialect_impl(dialect)


def _converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """value -> what the driver should send for ``column`` (bind processing, JSON as text); None
    when the value goes as it is."""
    decorator = column.type if isinstance(column.type, TypeDecorator) else None
    is_json = isinstance(_impl(column, dialect), JSON)
    if decorator is None and not is_json:
        return None

    def convert(value: Any) -> Any:
        if decorator is not None:
            value = decorator.process_bind_param(value, dialect)
        if is_json and value is not None:
            return json.dumps(value)
        return value

    return convert


def _converted(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], converters: Sequence[Callable[[Any], Any] | None]
) -> list[list[Any]]:
    """Each row's values in ``names`` order, converted where a column needs it."""
    getter = itemgetter(*names)
    values = [list(getter(row)) for row in rows] if len(names) > 1 else [[row[names[0]]] for row in rows]
    for index, convert in enumerate(converters):
        if convert is not None:
            for row_values in values:
                row_values[index] = convert(row_values[index])
    return values


def _quoted(dialect: Dialect, name: str) -> str:
    return str(dialect.identifier_preparer.quote(name))


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (mappings with the same keys) into ``table`` in ``session``'s transaction."""
    if not rows:
        return
    if not _is_postgresql(session):
        session.execute(insert(table), list(rows))
        return
    dialect = session.get_bind().dialect
    names = list(rows[0].keys())
    columns = [table.c[name] for name in names]
    column_list = ", ".join(_quoted(dialect, name) for name in names)
    sql = f"COPY {_quoted(dialect, table.name)} ({column_list}) FROM STDIN"
    with _driver_errors(dialect, sql):
        values = _converted(rows, names, [_converter(column, dialect) for column in columns])
    with (
        _driver_errors(dialect, sql),
        _driver_connection(session).cursor() as cursor,
        cursor.copy(sql) as copy,
    ):
        for row_values in values:
            copy.write_row(row_values)


def update_rows(
    session: Session, table: Table, key: str, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set the ``names`` columns of each row of ``table`` whose ``key`` column equals ``row[key]``."""
    if not rows:
        return
    if not _is_postgresql(session):
        stmt = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({name: bindparam(f"b_{name}") for name in names})
            .execution_options(synchronize_session=False)
        )
        session.execute(stmt, [{f"b_{name}": row[name] for name in (key, *names)} for row in rows])
        return
    dialect = session.get_bind().dialect
    every = [key, *names]
    definitions: list[str] = []
    processors: list[tuple[str, TypeDecorator[Any]]] = []
    for name in every:
        column = table.c[name]
        definitions.append(f"{_quoted(dialect, name)} {_impl(column, dialect).compile(dialect=dialect)}")
        if isinstance(column.type, TypeDecorator):
            processors.append((name, column.type))
    records = [{name: row[name] for name in every} for row in rows]
    target = _quoted(dialect, table.name)
    assignments = ", ".join(f"{_quoted(dialect, name)} = v.{_quoted(dialect, name)}" for name in names)
    sql = (
        f"UPDATE {target} AS t SET {assignments} FROM jsonb_to_recordset(%(rows)s::jsonb) "
        f"AS v({', '.join(definitions)}) WHERE t.{_quoted(dialect, key)} = v.{_quoted(dialect, key)}"
    )
    with _driver_errors(dialect, sql):
        for name, decorator in processors:
            for record in records:
                record[name] = decorator.process_bind_param(record[name], dialect)
        document = json.dumps(records, default=_json_default, allow_nan=False)
    with _driver_errors(dialect, sql), _driver_connection(session).cursor() as cursor:
        cursor.execute(sql, {"rows": document})


def _json_default(value: Any) -> str:
    """JSON for what ``json`` lacks: datetimes (ISO 8601, offset kept) and UUIDs (PostgreSQL parses both)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")
