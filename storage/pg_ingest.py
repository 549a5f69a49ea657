"""PostgreSQL ingest: a whole page of complaints in one statement, idempotent through complaint_keys.

``complaints`` is partitioned on PostgreSQL (migration 0004), so it cannot hold the global unique
key (source, external_id); ``complaint_keys`` does. The page is COPied into a temporary table,
then one statement inserts its keys with ``ON CONFLICT DO NOTHING RETURNING`` and only the keys it
returned go on into ``complaints``, in the caller's transaction. A key delivered by two
transactions at once is stored once: the second waits on the first's uncommitted key and then
skips it (or inserts it, if the first rolled back). Keys are inserted in sorted order so that two
overlapping pages cannot deadlock.

COPY rather than parameters: psycopg formats COPY rows in C, about four times less client CPU
than binding one array per column, and the server parses no statement per row.
"""

from __future__ import annotations

import zlib
from functools import cache
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from storage.models import Complaint
from storage.partitions import KEYS_TABLE

_DIALECT = postgresql.dialect()


def _sql_type(column: Column) -> str:
    return column.type.compile(dialect=_DIALECT)


def _constant(column: Column) -> Any:
    """The model's Python-side scalar default, which a Core INSERT would have filled in."""
    default = column.default
    if default is not None and default.is_scalar:
        return default.arg
    return None


@cache
def _statements(columns: tuple[str, ...]) -> tuple[str, str, str, tuple[Any, ...], str]:
    """SQL to create the temporary table, COPY into it and insert; the constants; its name.

    The temporary table lives as long as the connection and is emptied at every commit; its name
    carries the column list, so a connection that outlives a schema change never mixes shapes.
    """
    table = Complaint.__table__
    temp = f"radar_ingest_page_{zlib.crc32(','.join(columns).encode()):08x}"
    names = ", ".join(columns)
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} ("
        + ", ".join(f"{name} {_sql_type(table.c[name])}" for name in columns)
        + ") ON COMMIT DELETE ROWS"
    )
    copy = f"COPY {temp} ({names}) FROM STDIN"
    missing = [
        c
        for c in table.columns
        if c.name != "id" and c.name not in columns and _constant(c) is not None
    ]
    consts = "".join(f", %s::{_sql_type(c)}" for c in missing)
    insert = (
        f"WITH new AS (INSERT INTO {KEYS_TABLE} (source, external_id, received_at) "
        f"SELECT source, external_id, received_at FROM {temp} ORDER BY source, external_id "
        "ON CONFLICT DO NOTHING RETURNING source, external_id, complaint_id) "
        f"INSERT INTO complaints (id, {names}{''.join(', ' + c.name for c in missing)}) "
        f"SELECT new.complaint_id, {', '.join('p.' + n for n in columns)}{consts} "
        f"FROM new JOIN {temp} p USING (source, external_id) "
        "RETURNING id, source, external_id"
    )
    return create, copy, insert, tuple(_constant(c) for c in missing), temp


def _check_aware(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Naive datetimes are ambiguous; refused as ``storage.types.UTCDateTime`` refuses them."""
    for name in columns:
        if name.endswith("_at"):
            for row in rows:
                value = row[name]
                if value is not None and value.tzinfo is None:
                    raise ValueError(f"naive datetime refused in {name}: {value!r}")


def insert_new_rows_postgres(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert rows whose (source, external_id) is not stored yet; returns them with ``id`` set.

    Rows are the caller's own dicts, all with the same keys; a key repeated within ``rows`` is
    stored once (its first row).
    """
    page: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        page.setdefault((row["source"], row["external_id"]), row)
    if not page:
        return []
    unique = list(page.values())
    columns = tuple(name for name in unique[0] if name != "id")
    _check_aware(unique, columns)
    create, copy_sql, insert, constants, temp = _statements(columns)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(create)
        cursor.execute(f"DELETE FROM {temp}")  # an earlier page of this same transaction
        with cursor.copy(copy_sql) as copy:
            for row in unique:
                copy.write_row([row[name] for name in columns])
        cursor.execute(insert, constants)
        returned = cursor.fetchall()
    inserted: list[dict[str, Any]] = []
    new_ids = {(source, external_id): new_id for new_id, source, external_id in returned}
    for key, row in page.items():
        new_id = new_ids.get(key)
        if new_id is not None:
            row["id"] = new_id
            inserted.append(row)
    return inserted
