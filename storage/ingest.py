"""Idempotent writes: complaints once per (source, external id), counts rolled up only for new rows.

Also marks repeat and multi-channel complaints (``storage.repeats``), keeps rejected records in
quarantine, and applies count-only deliveries so that re-delivering an interval replaces
instead of adding.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from domain.buckets import BUCKET, bucket_start
from domain.records import NormalizedComplaint, RawCount
from storage.dialect import dialect_of
from storage.models import COUNT_DIMENSIONS, CountDelivery, QuarantinedRecord
from storage.pg_ingest import insert_and_count_postgres
from storage.repeats import CHUNK, REPEAT_WINDOW, driver_of, flag_repeats
from storage.sqlite_ingest import insert_and_count_sqlite
from storage.types import sqlite_time


@dataclass(frozen=True)
class IngestResult:
    inserted: int
    duplicates: int


def ingest_complaints(session: Session, complaints: Sequence[NormalizedComplaint]) -> IngestResult:
    """Insert complaints, skipping ones already stored, and roll the new ones up into counts.

    Accepts ``NormalizedComplaint`` objects (or anything with the same attributes). Runs in the
    caller's transaction so that the source cursor can be committed together with the data.
    Each database stores and counts the page in its own way, then names the (customer, product)
    pairs whose repeat flags can change (``storage.sqlite_ingest``, ``storage.pg_ingest``).
    """
    page = _STORE[dialect_of(session).name](session, complaints)
    if page.pairs:
        assert page.first_at is not None and page.last_at is not None  # pairs come from stored rows
        since, until = page.first_at - REPEAT_WINDOW, page.last_at + REPEAT_WINDOW
        flag_repeats(session, page.pairs, since, until)
    return IngestResult(inserted=page.inserted, duplicates=len(complaints) - page.inserted)


_STORE = {"sqlite": insert_and_count_sqlite, "postgresql": insert_and_count_postgres}


def add_counts(session: Session, counts: Counter[tuple]) -> None:
    """Add to per-bucket counts; keys are (bucket_start, *COUNT_DIMENSIONS). Count-only sources use this.

    ``INSERT … ON CONFLICT DO UPDATE`` through the DBAPI, in key order so that concurrent
    writers lock rows in one order: on SQLite one ``executemany``; on PostgreSQL one statement
    over a JSON array of the rows (an ``executemany`` there costs a round trip per row, and
    psycopg dumps a list per column in Python: 15–20 ms of CPU per 1,000 rows against 5).
    """
    items = sorted((key, n) for key, n in counts.items() if n)
    if not items:
        return
    driver = driver_of(session)
    columns = ", ".join(("bucket_start", *COUNT_DIMENSIONS))
    upsert = (
        f"ON CONFLICT ({columns}) DO UPDATE SET count = complaint_counts.count + excluded.count"
    )
    if driver.sqlite:
        values = f"VALUES ({driver.marks(len(COUNT_DIMENSIONS) + 2)})"
        sql = f"INSERT INTO complaint_counts ({columns}, count) {values} {upsert}"
        rows = [(sqlite_time(key[0]), *key[1:], n) for key, n in items]
        driver.connection.exec_driver_sql(sql, rows)
        return
    fields = ", ".join(f"r->>{i}" for i in range(1, len(COUNT_DIMENSIONS) + 1))
    sql = (
        f"INSERT INTO complaint_counts ({columns}, count) "
        f"SELECT (r->>0)::timestamptz, {fields}, (r->>{len(COUNT_DIMENSIONS) + 1})::int "
        f"FROM json_array_elements(%s::json) WITH ORDINALITY AS page(r, n) ORDER BY n {upsert}"
    )
    rows = [[key[0].isoformat(), *key[1:], n] for key, n in items]
    driver.connection.exec_driver_sql(sql, (json.dumps(rows, ensure_ascii=False),))


@dataclass(frozen=True)
class Rejected:
    """A record that goes to quarantine; the caller has already masked the payload."""

    external_id: str
    reason: str
    payload: str


def quarantine(session: Session, source: str, items: Sequence[Rejected], now: datetime) -> int:
    """Keep rejected records with their reason so nothing is silently dropped; returns how many.

    Idempotent: a record already kept under the same (external id, reason, payload), such as a
    re-imported file's bad rows or a boundary record delivered again, is not stored twice.
    """
    rows = {
        (item.external_id[:128], item.reason[:2000], item.payload[:100_000]): None for item in items
    }
    for key in _already_quarantined(session, source, list(rows)):
        rows.pop(key, None)
    if rows:
        session.execute(
            insert(QuarantinedRecord),
            [
                {
                    "source": source,
                    "external_id": external_id,
                    "reason": reason,
                    "payload": payload,
                    "quarantined_at": now,
                }
                for external_id, reason, payload in rows
            ],
        )
    return len(rows)


def _already_quarantined(
    session: Session, source: str, keys: list[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """Those of ``keys`` (external id, reason, payload) already kept for ``source``."""
    found: set[tuple[str, str, str]] = set()
    ids = sorted({key[0] for key in keys})
    q = QuarantinedRecord
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(q.external_id, q.reason, q.payload).where(
            q.source == source, q.external_id.in_(chunk)
        )
        wanted = set(chunk)
        reasons = {key[1] for key in keys if key[0] in wanted}
        if len(reasons) <= CHUNK:  # narrows rows sharing an id ("" above all); bounded params
            query = query.where(q.reason.in_(sorted(reasons)))
        found.update(cast("tuple[str, str, str]", tuple(row)) for row in session.execute(query))
    return found & set(keys)


def split_interval(start: datetime, minutes: int, count: int) -> list[tuple[datetime, int]]:
    """Spread an interval's count over its 5-minute buckets, remainder to the earliest ones."""
    first = bucket_start(start)
    buckets = max(minutes // 5, 1)
    base, extra = divmod(count, buckets)
    return [(first + i * BUCKET, base + (1 if i < extra else 0)) for i in range(buckets)]


def _delivery_counts(
    start: datetime, minutes: int, count: int, dims: dict[str, str]
) -> Counter[tuple]:
    out: Counter[tuple] = Counter()
    for bucket, n in split_interval(start, minutes, count):
        out[(bucket, *(dims[d] for d in COUNT_DIMENSIONS))] += n
    return out


def deliver_counts(session: Session, source: str, counts: Sequence[RawCount], now: datetime) -> int:
    """Apply a count-only delivery; returns the net change in stored complaint counts.

    Each raw row (``RawCount``) is remembered in ``count_deliveries`` by its raw key; delivering
    the same row again moves only the difference into ``complaint_counts``, so overlapping or
    repeated deliveries never double, and corrections (a lower number) are applied too. A
    corrected row is stored as a new row (a new id): the evaluation finds what was stored since
    its last tick by id, and refits the baselines of the corrected day.
    """
    latest: dict[str, RawCount] = {}
    for item in counts:
        latest[item.raw_key] = item  # the same row twice in one delivery: the last one wins
    if not latest:
        return 0
    keys = sorted(latest)
    previous: dict[str, CountDelivery] = {}
    for start in range(0, len(keys), CHUNK):
        query = select(CountDelivery).where(
            CountDelivery.source == source, CountDelivery.raw_key.in_(keys[start : start + CHUNK])
        )
        previous.update({row.raw_key: row for row in session.scalars(query)})
    delta: Counter[tuple] = Counter()
    replaced: list[int] = []
    fresh: list[CountDelivery] = []
    for key, item in latest.items():
        dims = {d: getattr(item, d) for d in COUNT_DIMENSIONS if d != "source"}
        delta.update(
            _delivery_counts(
                item.interval_start, item.interval_minutes, item.count, {"source": source, **dims}
            )
        )
        old = previous.get(key)
        if old is not None:
            old_dims = {d: getattr(old, d) for d in COUNT_DIMENSIONS if d != "source"}
            delta.subtract(
                _delivery_counts(
                    old.interval_start,
                    old.interval_minutes,
                    old.count,
                    {"source": source, **old_dims},
                )
            )
            before = (old.interval_start, old.interval_minutes, old.count, old_dims)
            if before == (item.interval_start, item.interval_minutes, item.count, dims):
                old.delivered_at = now
                continue
            replaced.append(old.id)
        fresh.append(
            CountDelivery(
                source=source,
                raw_key=key,
                interval_start=item.interval_start,
                interval_minutes=item.interval_minutes,
                count=item.count,
                delivered_at=now,
                **dims,
            )
        )
    if replaced and session.get_bind().dialect.name == "sqlite":
        # SQLite would give a deleted highest id again: number the new rows past it
        newest = session.scalar(select(func.max(CountDelivery.id))) or 0
        for row_id, row in enumerate(fresh, start=newest + 1):
            row.id = row_id
    for start in range(0, len(replaced), CHUNK):  # before the new rows: (source, raw_key) is unique
        chunk = replaced[start : start + CHUNK]
        session.execute(delete(CountDelivery).where(CountDelivery.id.in_(chunk)))
    session.add_all(fresh)
    session.flush()
    add_counts(session, delta)
    return sum(delta.values())
