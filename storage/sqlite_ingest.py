"""SQLite: store a page of new complaints with one ``executemany`` and ids chosen under the write lock.

SQLAlchemy's ``INSERT … ON CONFLICT DO NOTHING RETURNING`` spent more Python per row than SQLite
spent storing it. Here the page's keys that are already stored are read with one indexed
``IN`` query, and only the new rows are written with the DBAPI's ``executemany``, each with an
explicit id ``max(id) + 1, + 2, …`` — exactly the rowids SQLite itself would pick (the table has
no AUTOINCREMENT). That is safe because SQLite has one writer at a time: the worker's
transactions start with BEGIN IMMEDIATE (storage.db), so nobody can insert between the
``max(id)`` and the insert; a deferred transaction that another writer overtook fails with
"database is locked" (or a key conflict) and its batch is retried whole — never stored half
or twice. The plain ``INSERT`` (no ``OR IGNORE``) keeps any surprise loud.

The rows are bound into a staging table without indexes (``temp.ingest_page``, in memory, one
per connection) and moved into ``complaints`` by one statement, with all the index work. The
staging table is emptied in the same transaction, so a rolled-back store leaves it empty.

The new complaints get consecutive ids, so counts and repeat candidates are then worked out by
SQL over that id range instead of from a row dict per complaint in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domain.records import NormalizedComplaint
from storage.models import COUNT_DIMENSIONS, Complaint
from storage.models import INGESTED_COLUMNS as COLUMNS
from storage.repeats import StoredPage
from storage.types import sqlite_time

KEY_CHUNK = 500  # keys per IN (...) query: far below SQLite's bound-parameter limit


def column_defaults() -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The columns a collector does not fill, with the values the ORM would give them (read
    from the model, not copied)."""
    names: list[str] = []
    values: list[Any] = []
    for column in Complaint.__table__.columns:
        if column.primary_key or column.name in COLUMNS:
            continue
        default = column.default
        if default is not None and not default.is_scalar:
            raise RuntimeError(f"complaints.{column.name} has a non-scalar default")
        value = default.arg if default is not None else None
        names.append(column.name)
        values.append(value)
    return tuple(names), tuple(values)


def _sql_literal(value: Any) -> str:
    """A model default written into the statement: one bound parameter less on every row."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise RuntimeError(f"no SQL literal for a default of type {type(value).__name__}")


_DEFAULT_NAMES, _DEFAULT_VALUES = column_defaults()
_STAGED = ("id", *COLUMNS)
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS ingest_page (id INTEGER PRIMARY KEY, {', '.join(COLUMNS)})"
)
_STAGE = f"INSERT INTO temp.ingest_page VALUES ({', '.join('?' * len(_STAGED))})"
_MOVE_STAGED = (
    f"INSERT INTO complaints ({', '.join(_STAGED + _DEFAULT_NAMES)}) "
    f"SELECT {', '.join(_STAGED)}, "
    f"{', '.join(_sql_literal(value) for value in _DEFAULT_VALUES)} "
    "FROM temp.ingest_page ORDER BY id"
)
_CLEAR_STAGE = "DELETE FROM temp.ingest_page"


def stored_keys(connection: Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those (source, external_id) ``keys`` already in ``complaints``: one indexed query per 500."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        for start in range(0, len(ids), KEY_CHUNK):
            chunk = ids[start : start + KEY_CHUNK]
            sql = (
                "SELECT external_id FROM complaints WHERE source = ? "
                f"AND external_id IN ({', '.join('?' * len(chunk))})"
            )
            found.update((source, r[0]) for r in connection.exec_driver_sql(sql, (source, *chunk)))
    return found


def insert_new_complaints_sqlite(
    connection: Connection, complaints: Sequence[NormalizedComplaint]
) -> tuple[int, list[NormalizedComplaint]]:
    """Store the complaints not stored yet (the first of a key within the page wins).

    Returns the first new id and the new complaints in id order: ids are ``first, first + 1, …``
    (complaint objects carry no id, and no row dict is built per complaint).
    """
    first_id, new = stage_new_complaints(connection, complaints)
    if new:
        move_staged(connection)
    return first_id, new


def stage_new_complaints(
    connection: Connection, complaints: Sequence[NormalizedComplaint]
) -> tuple[int, list[NormalizedComplaint]]:
    """The first half of ``insert_new_complaints_sqlite``: the new rows, with their ids, bound
    into the staging table. ``move_staged`` must follow in the same transaction."""
    unique: dict[tuple[str, str], NormalizedComplaint] = {}
    for c in complaints:
        unique.setdefault((c.source, c.external_id), c)
    if not unique:
        return 0, []
    stored = stored_keys(connection, list(unique))
    new = [c for key, c in unique.items() if key not in stored]
    if not new:
        return 0, []
    first_id = (connection.exec_driver_sql("SELECT max(id) FROM complaints").scalar() or 0) + 1
    stamps: dict[datetime, str] = {}  # collected_at is one value per page
    params = []
    for row_id, c in enumerate(new, start=first_id):
        collected = c.collected_at
        stamp = stamps.get(collected)
        if stamp is None:
            stamp = stamps[collected] = sqlite_time(collected)
        params.append(
            (
                row_id,
                c.source,
                c.external_id,
                sqlite_time(c.received_at),
                stamp,
                c.channel,
                c.product_code,
                c.product_name,
                c.product_line,
                c.region,
                c.category,
                c.event_tag,
                c.text,
                c.customer_key,
                c.branch,
            )
        )
    connection.exec_driver_sql(_CREATE_STAGE)
    connection.exec_driver_sql(_STAGE, params)
    return first_id, new


def move_staged(connection: Connection) -> None:
    """The staged rows into ``complaints`` in id order, then the stage emptied."""
    connection.exec_driver_sql(_MOVE_STAGED)
    connection.exec_driver_sql(_CLEAR_STAGE)


def insert_and_count_sqlite(session: Session, complaints: Sequence[Any]) -> StoredPage:
    """Store the complaints whose (source, external_id) is not stored yet, counted in
    ``complaint_counts``, and find the pairs whose repeat flags can change."""
    connection = session.connection()
    first_id, new = insert_new_complaints_sqlite(connection, complaints)
    if not new:
        return StoredPage(0, set(), None, None)
    last_id = first_id + len(new) - 1
    connection.exec_driver_sql(_COUNT_NEW, (first_id, last_id))
    pairs = {
        (customer, product)
        for customer, product in connection.exec_driver_sql(_PAIRS, (first_id, last_id))
    }
    if not pairs:
        return StoredPage(len(new), set(), None, None)
    times = [c.received_at for c in new if (c.customer_key, c.product_code) in pairs]
    return StoredPage(len(new), pairs, min(times), max(times))


_DIMENSIONS = ", ".join(COUNT_DIMENSIONS)
# received_at is stored as "YYYY-MM-DD HH:MM:SS.ffffff" (sqlite_time): the bucket keeps the hour
# and floors the minute to 5, exactly as bucket_start does.
_BUCKET = (
    "substr(received_at, 1, 14) || printf('%02d', CAST(substr(received_at, 15, 2) AS INTEGER)"
    " / 5 * 5) || ':00.000000'"
)
_COUNT_NEW = (
    f"INSERT INTO complaint_counts (bucket_start, {_DIMENSIONS}, count) "
    f"SELECT {_BUCKET} AS bucket, {_DIMENSIONS}, count(*) FROM complaints "
    f"WHERE id BETWEEN ? AND ? GROUP BY bucket, {_DIMENSIONS} "
    f"ON CONFLICT (bucket_start, {_DIMENSIONS}) "
    "DO UPDATE SET count = complaint_counts.count + excluded.count"
)
# (customer, product) pairs of the new complaints that have another complaint within 30 days:
# only these can change a flag (flags only turn on, and older pairs were settled when stored).
# One day of slack each side: the text bounds carry milliseconds, the exact test is Python's.
_PAIRS = (
    "SELECT DISTINCT n.customer_key, n.product_code FROM complaints n "
    "WHERE n.id BETWEEN ? AND ? AND n.customer_key != '' AND n.product_code != '' "
    "AND EXISTS (SELECT 1 FROM complaints o WHERE o.customer_key = n.customer_key "
    "AND o.product_code = n.product_code AND o.id != n.id "
    "AND o.received_at >= strftime('%Y-%m-%d %H:%M:%f', n.received_at, '-31 days') "
    "AND o.received_at <= strftime('%Y-%m-%d %H:%M:%f', n.received_at, '+31 days'))"
)
