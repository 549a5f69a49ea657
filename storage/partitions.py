"""Monthly partitions of ``complaints`` on PostgreSQL: created ahead of time, DEFAULT kept small.

``complaints`` is partitioned by RANGE of ``received_at`` (one partition per UTC month, named
``complaints_YYYY_MM``) with a DEFAULT partition so that no row is ever rejected, whatever date a
source sends. Partitions are created a few months ahead by ``ensure_partitions``, which
``storage.migrate.upgrade_to_head`` (every process start, ``manage.py migrate``) and a daily
worker job call. Rows that landed in DEFAULT for a month within ``MONTHS_BACK`` (a late backfill,
a month whose partition was not there yet) are moved into their own partition by the same call;
rows far outside (a 1990 or 2090 typo) stay in DEFAULT, where they are still stored and counted.
SQLite has no partitions: every function here is a no-op there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("radar.partitions")
PARENT = "complaints"
DEFAULT_PARTITION = "complaints_default"
KEYS_TABLE = "complaint_keys"
MONTHS_AHEAD = 3
MONTHS_BACK = 120  # DEFAULT rows older than ten years are left where they are
_PARTITION_NAME = re.compile(r"^complaints_(\d{4})_(\d{2})$")


def month_of(moment: datetime) -> date:
    """The first day of the UTC month holding ``moment``."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month.year:04d}_{month.month:02d}"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def is_partitioned(connection: Connection) -> bool:
    """True on PostgreSQL once the partitioning migration ran (in the current search_path)."""
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.execute(
            text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:parent)::oid"),
            {"parent": PARENT},
        ).first()
    )


def existing_months(connection: Connection) -> set[date]:
    """Months that have a partition attached to ``complaints``."""
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)::oid"
        ),
        {"parent": PARENT},
    ).scalars()
    months = set()
    for name in names:
        match = _PARTITION_NAME.match(name)
        if match:
            months.add(date(int(match[1]), int(match[2]), 1))
    return months


def _months_in_default(connection: Connection, first: date, last: date) -> set[date]:
    rows = connection.execute(
        text(
            f"SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE 'UTC')::date "
            f"FROM {DEFAULT_PARTITION} WHERE received_at >= :lo AND received_at < :hi"
        ),
        {"lo": _bound(first), "hi": _bound(add_months(last, 1))},
    ).scalars()
    return set(rows)


def create_partition(connection: Connection, month: date) -> str:
    """Create one month's partition, moving its rows out of DEFAULT first if there are any.

    PostgreSQL refuses to create a partition while DEFAULT holds rows of its range, so those
    rows are deleted from DEFAULT and re-inserted through the parent in the same transaction;
    DEFAULT is locked meanwhile so an insert cannot slip a row of that month in between.
    """
    name = partition_name(month)
    lo, hi = _bound(month), _bound(add_months(month, 1))
    params = {"lo": lo, "hi": hi}
    in_range = "received_at >= CAST(:lo AS timestamptz) AND received_at < CAST(:hi AS timestamptz)"
    moving = connection.execute(
        text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE {in_range})"), params
    ).scalar()
    if moving:
        connection.execute(text(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE"))
        connection.execute(
            text(
                f"CREATE TEMP TABLE radar_partition_move ON COMMIT DROP AS "
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE {in_range} RETURNING *) "
                f"SELECT * FROM moved"
            ),
            params,
        )
    connection.execute(
        text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ('{lo}') TO ('{hi}')")
    )
    if moving:
        connection.execute(text(f"INSERT INTO {PARENT} SELECT * FROM radar_partition_move"))
        connection.execute(text("DROP TABLE radar_partition_move"))
    return name


def ensure_partitions(
    connection: Connection, now: datetime, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create missing partitions (last month .. ``months_ahead`` ahead, and months found in DEFAULT).

    Idempotent, and safe when several workers run it at once: a transaction-scoped advisory lock
    (per schema) serialises them. Returns the names of the partitions it created.
    """
    if not is_partitioned(connection):
        return []
    connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.complaint_partitions'))")
    )
    current = month_of(now)
    wanted = {add_months(current, k) for k in range(-1, months_ahead + 1)}
    wanted |= _months_in_default(
        connection, add_months(current, -MONTHS_BACK), add_months(current, months_ahead)
    )
    missing = sorted(wanted - existing_months(connection))
    return [create_partition(connection, month) for month in missing]


def maintain(engine: Engine, clock: Callable[[], datetime]) -> list[str]:
    """The worker's daily job: ``ensure_partitions`` in its own transaction (SQLite: nothing)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as connection:
        created = ensure_partitions(connection, clock())
    if created:
        log.info("created complaint partitions: %s", ", ".join(created))
    return created


def include_in_comparison(dialect: str):
    """An Alembic ``include_object`` hook: what the models do not describe on this dialect.

    On PostgreSQL the partitions and ``complaint_keys`` are created by the migration and SQL,
    not by the models, and the global (source, external_id) key lives in ``complaint_keys``
    instead of a unique constraint on the partitioned table.
    """

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if dialect != "postgresql":
            return True
        if type_ == "table" and reflected and compare_to is None:
            return not (
                name in (DEFAULT_PARTITION, KEYS_TABLE) or _PARTITION_NAME.match(name or "")
            )
        return not (type_ == "unique_constraint" and name == "uq_complaints_source_external_id")

    return include
