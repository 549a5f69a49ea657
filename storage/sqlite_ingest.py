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
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from storage.models import INGESTED_COLUMNS as COLUMNS
from storage.models import Complaint

KEY_CHUNK = 500  # keys per IN (...) query: far below SQLite's bound-parameter limit


def sqlite_time(moment: datetime) -> str:
    """The text SQLAlchemy stores for a ``UTCDateTime`` on SQLite: naive UTC with microseconds."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime refused: {moment!r}; pass a timezone-aware value")
    m = moment.astimezone(UTC)  # %-formatting: a third cheaper than isoformat(timespec=...)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 - the fastest here
        m.year,
        m.month,
        m.day,
        m.hour,
        m.minute,
        m.second,
        m.microsecond,
    )


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
    connection: Connection, complaints: Sequence[Any]
) -> tuple[int, list[Any]]:
    """Store the complaints not stored yet (the first of a key within the page wins).

    Returns the first new id and the new complaints in id order: ids are ``first, first + 1, …``
    (complaint objects carry no id, and no row dict is built per complaint).
    """
    first_id, new = stage_new_complaints(connection, complaints)
    if new:
        move_staged(connection)
    return first_id, new


def stage_new_complaints(
    connection: Connection, complaints: Sequence[Any]
) -> tuple[int, list[Any]]:
    """The first half of ``insert_new_complaints_sqlite``: the new rows, with their ids, bound
    into the staging table. ``move_staged`` must follow in the same transaction."""
    unique: dict[tuple[str, str], Any] = {}
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
