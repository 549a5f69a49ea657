"""Ingest throughput through the real collector path against raw ``executemany`` of the same rows.

The path is ``collectors.runner.collect_once``: normalise (clean, mask PII), ``ingest_complaints``
(dedupe, count roll-up, repeat flags), cursor update, one commit per group of pages. The
reference writes the already-normalised rows with the DBAPI cursor's ``executemany`` into the
same database's ``complaints`` table, committing as often as the path: what the path adds to
storing the rows. The same rows into a table of the same columns without indexes, committed
per batch of 1,000 (the reference until 2026-12-01), are measured too and reported beside it
(docs/PERFORMANCE.md, "Which reference").
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from bench.figures import Figure
from bench.records import raw_records
from collectors.base import Batch
from collectors.pii import current_salt, keyed_digest, normalise_identifier, stretch_key
from collectors.runner import GROUP_RECORDS, collect_once, normalize_all
from storage.db import make_session_factory
from storage.models import INGESTED_COLUMNS as _COLUMNS  # the reference writes the same
from storage.models import Complaint
from storage.pg_ingest import insert_rows_postgres
from storage.sqlite_ingest import column_defaults, insert_new_complaints_sqlite

BATCH = 1000  # the CSV/SQL collectors' default batch size
# Path and reference are each measured this many times and the median reported: on a shared VM
# one run of either moved by ±15 % within minutes (docs/PERFORMANCE.md, "Ingest").
RUNS = 3


@dataclass
class ListCollector:
    """A source that hands out a prepared list in pages; the cursor is the next index."""

    records: list[dict[str, Any]]
    batch: int = BATCH

    def fetch(self, cursor: str, now: datetime) -> Batch:
        start = int(cursor or 0)
        stop = min(start + self.batch, len(self.records))
        return Batch(
            records=self.records[start:stop], cursor=str(stop), has_more=stop < len(self.records)
        )


def run_path(
    engine: Engine, records: list[dict[str, Any]], now: datetime, source: str = "bench"
) -> tuple[float, float, int]:
    """Wall and this process's CPU seconds to collect every record, and complaints stored.

    CPU seconds say what the path costs when the machine is shared (SQLite works in-process;
    PostgreSQL's own work is not in them).
    """
    factory = make_session_factory(engine)
    collector = ListCollector(records)
    cpu = time.process_time()
    started = time.perf_counter()
    while True:
        result = collect_once(factory, source, "http_api", collector, now)
        if result.error:
            raise RuntimeError(f"ingest failed: {result.error}")
        if result.fetched == 0:
            break
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(Complaint))
    return seconds, cpu, int(stored or 0)


def _raw_table_sql(dialect: str) -> str:
    stamp = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "DATETIME"
    columns = ", ".join(f"{c} {stamp if c.endswith('_at') else 'TEXT'}" for c in _COLUMNS)
    key = "BIGSERIAL PRIMARY KEY" if dialect == "postgresql" else "INTEGER PRIMARY KEY"
    return f"CREATE TABLE bench_raw (id {key}, {columns})"


def _raw_value(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime) and dialect == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _worker(url: str, source: str, count: int, part: int, parts: int, now: datetime) -> tuple:
    """One collector worker process: its share of the records as its own source."""
    from storage.db import make_engine

    records = raw_records(count)[part::parts]
    engine = make_engine(url)
    try:
        started = time.monotonic()  # CLOCK_MONOTONIC: comparable across processes on Linux
        run_path(engine, records, now, source)
        return started, time.monotonic(), len(records)
    finally:
        engine.dispose()


def measure_workers(
    name: str, label: str, make: Callable[[], Any], count: int, workers: int, target: float
) -> Figure:
    """Several worker processes, one source each, into one database at once (how ingest scales
    past one process: sources split over workers, ``RADAR_WORKER_SOURCES``). The rate is all
    records over the time from the first worker's start to the last one's end."""
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    context = multiprocessing.get_context("spawn")
    with make() as engine:
        url = engine.url.render_as_string(hide_password=False)
        with context.Pool(workers) as pool:
            jobs = [(url, f"bench-{i}", count, i, workers, now) for i in range(workers)]
            runs = pool.starmap(_worker, jobs)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(Complaint))
    seconds = max(end for _, end, _ in runs) - min(start for start, _, _ in runs)
    return Figure(
        name=name,
        label=label,
        value=count / seconds,
        unit="complaints/s",
        target=target,
        details={
            "records": count,
            "workers": workers,
            "stored": stored,
            "seconds": round(seconds, 3),
        },
    )


def run_raw(engine: Engine, records: list[dict[str, Any]], now: datetime, plain: bool) -> float:
    """Seconds for cursor.executemany of the normalised rows.

    Into ``complaints`` itself, each new key once with an explicit id and the model's defaults,
    one commit per ``GROUP_RECORDS`` as the path commits a backfill (the ratio's reference); or,
    ``plain``, every row into a fresh table of the same columns without any index, one commit
    per ``BATCH``.
    """
    good, _ = normalize_all(records, "bench", now)
    dialect = engine.dialect.name
    marker = "%s" if dialect == "postgresql" else "?"
    if plain:
        table, columns = "bench_raw", _COLUMNS
        rows = [tuple(_raw_value(getattr(c, col), dialect) for col in _COLUMNS) for c in good]
    else:
        defaults, default_values = column_defaults()
        table, columns = "complaints", ("id", *_COLUMNS, *defaults)
        unique = list({(c.source, c.external_id): c for c in good}.values())
        rows = [
            (row_id, *(_raw_value(getattr(c, col), dialect) for col in _COLUMNS), *default_values)
            for row_id, c in enumerate(unique, start=1)
        ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    )
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if plain:
            if dialect == "sqlite":
                cursor.execute("BEGIN")
            cursor.execute(_raw_table_sql(dialect))
            connection.commit()
        started = time.perf_counter()
        commit_every = BATCH if plain else GROUP_RECORDS
        for start in range(0, len(rows), commit_every):
            if dialect == "sqlite":
                cursor.execute("BEGIN")
            cursor.executemany(sql, rows[start : start + commit_every])
            connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def run_table_floor(engine: Engine, records: list[dict[str, Any]], now: datetime) -> float:
    """Seconds for executemany of the same new rows into the real ``complaints`` table (all its
    indexes), committing per collector group: what storing alone costs this schema."""
    good, _ = normalize_all(records, "bench", now)
    unique = list({(c.source, c.external_id): c for c in good}.values())
    with make_session_factory(engine)() as session:
        started = time.perf_counter()
        for start in range(0, len(unique), GROUP_RECORDS):
            ingest_rows_only(session, unique[start : start + GROUP_RECORDS])
            session.commit()
        return time.perf_counter() - started


def ingest_rows_only(session: Any, complaints: list[Any]) -> None:
    """Only the complaint rows, through the dialect's own fast insert (no counts, no flags)."""
    if session.get_bind().dialect.name == "sqlite":
        insert_new_complaints_sqlite(session.connection(), complaints)
    else:
        insert_rows_postgres(session, complaints)


def plain_figure(name: str, label: str, path: Figure) -> Figure:
    """An info figure from ``path``'s run: raw executemany into a table without indexes, and the
    path's ratio to it (the ratio's reference until 2026-12-01)."""
    details = path.details
    return Figure(
        name=name,
        label=f"{label} (the path: {details['ratio_to_plain']:.2f} × this)",
        value=details["plain_rate"],
        unit="rows/s",
        details={"rates": details["plain_rates"], "path_ratio": details["ratio_to_plain"]},
    )


def stretch_figure(name: str, label: str, path: Figure, records: list[dict[str, Any]]) -> Figure:
    """An info figure: the path's ratio to raw executemany with the customer key's PBKDF2
    stretch (issue 19's slow keyed hash, paid once per complaint) taken out of the path's time,
    so the privacy cost and the path's own overhead can be weighed apart."""
    salt = current_salt()
    identities = [r.get("customer_id") or r.get("customer_phone") or "" for r in records]
    digests = [keyed_digest(normalise_identifier(str(i)), salt) for i in identities if i]
    started = time.perf_counter()
    for digest in digests:
        stretch_key(digest, salt)
    stretch = time.perf_counter() - started
    details = path.details
    rest = max(details["seconds"] - stretch, 1e-9)
    ratio = details["raw_seconds"] / rest
    return Figure(
        name=name,
        label=f"{label}: {stretch / max(len(digests), 1) * 1e6:.0f} µs a key; the path without it:"
        f" {ratio:.2f} × raw executemany",
        value=len(records) / rest,
        unit="complaints/s",
        details={"stretch_seconds": round(stretch, 3), "keys": len(digests), "ratio": ratio},
    )


def measure_floor(
    name: str, label: str, make: Callable[[], Any], records: list[dict[str, Any]]
) -> Figure:
    """An info figure: inserting the rows alone into the indexed table, for comparison."""
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    with make() as engine:
        seconds = run_table_floor(engine, records, now)
    return Figure(
        name=name,
        label=label,
        value=len(records) / seconds,
        unit="rows/s",
        details={"records": len(records), "seconds": round(seconds, 3)},
    )


def measure(
    name: str,
    label: str,
    make: Callable[[], Any],
    records: list[dict[str, Any]],
    target: float,
    runs: int = RUNS,
) -> Figure:
    """Path and references on fresh databases of the same kind, in the same run: the median of
    ``runs`` alternating measurements of each, every one on a fresh database."""
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    paths: list[tuple[float, float, int]] = []
    raw_times: list[float] = []
    plain_times: list[float] = []
    for _ in range(runs):
        with make() as engine:
            paths.append(run_path(engine, records, now))
        with make() as engine:
            raw_times.append(run_raw(engine, records, now, plain=False))
        with make() as engine:
            plain_times.append(run_raw(engine, records, now, plain=True))
    seconds, cpu, stored = sorted(paths)[len(paths) // 2]  # the median run (odd ``runs``)
    raw_seconds = statistics.median(raw_times)
    plain_seconds = statistics.median(plain_times)
    rate = len(records) / seconds
    return Figure(
        name=name,
        label=label,
        value=rate,
        unit="complaints/s",
        target=target,
        reference=len(records) / raw_seconds,
        reference_label="raw executemany into complaints",
        ratio_target=0.3,
        details={
            "records": len(records),
            "stored": stored,
            "runs": runs,
            "rates": [round(len(records) / s) for s, _, _ in paths],
            "raw_rates": [round(len(records) / s) for s in raw_times],
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 3),
            "rate_per_cpu_second": round(len(records) / cpu),
            "raw_seconds": round(raw_seconds, 3),
            "raw_rate": round(len(records) / raw_seconds),
            "plain_rates": [round(len(records) / s) for s in plain_times],
            "plain_rate": round(len(records) / plain_seconds),
            "ratio_to_plain": round(plain_seconds / seconds, 3),
        },
    )
