"""SQL query source (CRM / call-centre database): incremental on an updated-at or id column.

The cursor is the (cursor column, id) of the last row committed. The next query asks for rows
strictly after that tuple, ordered by it, so rows sharing one timestamp are never skipped even
when a batch ends among them; a row updated later comes again and idempotent ingest keeps it once.

Rows whose cursor column is NULL (an updated_at the CRM fills only on the first update) can never
pass ``> :ts``, so they are read by a second pass in id order with a cursor of their own
(``null_id``). When such a row later gets its timestamp it comes again through the first pass,
and idempotent ingest keeps it once. The second pass assumes ids of new rows increase, as the id
cursor does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Engine, bindparam, create_engine, text

from collectors.base import Batch
from collectors.http_client import SourceUnavailable
from collectors.mapping import apply_columns, resolve_columns
from config.sources import SqlSource
from domain.products import ProductTable


def encode_value(value: Any) -> dict[str, Any]:
    """A cursor value as JSON that comes back as the same Python type for the next query."""
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, bool):
        return {"t": "int", "v": int(value)}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, Decimal | float):
        return {"t": "decimal", "v": str(value)}
    return {"t": "str", "v": str(value)}


def decode_value(encoded: Mapping[str, Any]) -> Any:
    kind, value = encoded["t"], encoded["v"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    return value


class SqlCollector:
    def __init__(self, config: SqlSource) -> None:
        self.config = config
        self.products = ProductTable(config.products)
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """Created on first use, so a missing variable is a source failure, not a crash at start."""
        if self._engine is None:
            url = self.config.url
            if self.config.url_env:
                url = os.environ.get(self.config.url_env)
                if not url:
                    raise SourceUnavailable(
                        f"environment variable {self.config.url_env} is not set"
                    )
            assert url is not None  # the source model requires exactly one of url and url_env
            self._engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        return self._engine

    def _statement(self, after: bool) -> Any:
        preparer = self.engine().dialect.identifier_preparer
        ts, key = preparer.quote(self.config.cursor_column), preparer.quote(self.config.id_column)
        inner = self.config.query.strip().rstrip(";")
        # Rows without a cursor value are the NULL pass's (see ``_null_statement``).
        where = f"WHERE src.{ts} IS NOT NULL"
        if after and self.config.cursor_column == self.config.id_column:
            where += f" AND src.{ts} > :ts"
        elif after:
            where += f" AND (src.{ts} > :ts OR (src.{ts} = :ts AND src.{key} > :key))"
        sql = f"SELECT * FROM ({inner}) src {where} ORDER BY src.{ts}, src.{key} LIMIT :n"
        return text(sql).bindparams(bindparam("n"))

    def _null_statement(self, after: bool) -> Any:
        """Rows with a NULL cursor column, in id order after the NULL pass's own cursor."""
        preparer = self.engine().dialect.identifier_preparer
        ts, key = preparer.quote(self.config.cursor_column), preparer.quote(self.config.id_column)
        inner = self.config.query.strip().rstrip(";")
        where = f"WHERE src.{ts} IS NULL AND src.{key} IS NOT NULL"
        if after:
            where += f" AND src.{key} > :null_key"
        sql = f"SELECT * FROM ({inner}) src {where} ORDER BY src.{key} LIMIT :n"
        return text(sql).bindparams(bindparam("n"))

    def fetch(self, cursor: str, now: datetime) -> Batch:
        c = self.config
        state = json.loads(cursor) if cursor else {}
        params: dict[str, Any] = {"n": c.batch_size}
        if state.get("ts"):
            params["ts"] = decode_value(state["ts"])
            if c.cursor_column != c.id_column:
                params["key"] = decode_value(state["id"])
        null_pass = c.cursor_column != c.id_column
        if state.get("null_id"):
            params["null_key"] = decode_value(state["null_id"])
        with self.engine().connect() as conn:
            result = conn.execute(self._statement(after="ts" in params), params)
            names = list(result.keys())
            rows = [dict(zip(names, row, strict=True)) for row in result]
            null_rows = []
            if null_pass:
                found = conn.execute(self._null_statement(after="null_key" in params), params)
                null_rows = [dict(zip(names, row, strict=True)) for row in found]
        if not rows and not null_rows:
            return Batch(records=[], cursor=cursor)
        next_state = dict(state)
        if rows:
            last = rows[-1]
            next_state["ts"] = encode_value(last[c.cursor_column])
            next_state["id"] = encode_value(last[c.id_column])
        if null_rows:
            next_state["null_id"] = encode_value(null_rows[-1][c.id_column])
        full = len(rows) >= c.batch_size or len(null_rows) >= c.batch_size
        return Batch(
            records=self._records(names, rows + null_rows),
            cursor=json.dumps(next_state),
            has_more=full,
        )

    def _records(self, names: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        c = self.config
        columns = resolve_columns(names, cast("Mapping[str, str]", c.columns))
        records = []
        for row in rows:
            record = apply_columns(row, columns)
            if c.channel and not record.get("channel"):
                record["channel"] = c.channel
            if record.get("id") is None and c.id_column in row:
                record["id"] = row[c.id_column]
            records.append(record)
        return records
