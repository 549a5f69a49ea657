"""Monthly partitions of complaints on PostgreSQL and the page-at-once ingest (storage/pg_ingest)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, column, insert, select, table, text

from domain.records import NormalizedComplaint
from storage.db import make_session_factory, session_scope
from storage.ingest import ingest_complaints
from storage.migrate import alembic_config, upgrade_to_head
from storage.models import Complaint
from storage.partitions import ensure_partitions, maintain, month_of
from storage.retention import apply_retention
from storage.scratch import scratch_postgres
from tests.conftest import _PG_REASON, POSTGRES_URL

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC)
THIS_MONTH = month_of(NOW)
LAST_MONTH = date(THIS_MONTH.year - (THIS_MONTH.month == 1), (THIS_MONTH.month - 2) % 12 + 1, 1)
OLD_MONTH = date(THIS_MONTH.year - 2, THIS_MONTH.month, 1)  # within the window, not pre-created
IN_THIS_MONTH = datetime(THIS_MONTH.year, THIS_MONTH.month, 1, 12, tzinfo=UTC)
IN_LAST_MONTH = datetime(LAST_MONTH.year, LAST_MONTH.month, 3, 8, tzinfo=UTC)
IN_OLD_MONTH = datetime(OLD_MONTH.year, OLD_MONTH.month, 15, tzinfo=UTC)
Y1990 = datetime(1990, 6, 1, tzinfo=UTC)
Y2090 = datetime(2090, 6, 1, tzinfo=UTC)


@pytest.fixture
def bare_engine() -> Iterator[Engine]:
    """An empty schema of its own, not migrated: the test chooses the revision."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    with scratch_postgres(POSTGRES_URL, "t_part", migrate=False) as engine:
        yield engine


@pytest.fixture
def pg_engine(bare_engine) -> Engine:
    upgrade_to_head(bare_engine)
    return bare_engine


def _migrate(engine: Engine, revision: str, down: bool = False) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def make(external_id: str, at: datetime = IN_THIS_MONTH, source: str = "s1"):
    return NormalizedComplaint(
        source=source,
        external_id=external_id,
        received_at=at,
        collected_at=at,
        channel="hotline",
        product_code="CAR-001",
        product_line="车险",
        region="广东",
        category="理赔",
        text=f"投诉 {external_id}",
    )


def _where(engine: Engine) -> dict[str, str]:
    """external_id -> the partition its row is stored in."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT external_id, tableoid::regclass::text FROM complaints"))
        return dict(rows.all())


def _keys(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT source, external_id, complaint_id FROM complaint_keys"))
        return {(r[0], r[1]): r[2] for r in rows}


def _partitions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'complaints'::regclass"
                )
            ).scalars()
        )


def test_upgrade_backfills_keys_and_puts_existing_rows_in_their_partitions(bare_engine):
    _migrate(bare_engine, "0003_extension_level")
    factory = make_session_factory(bare_engine)
    stamps = {"now": IN_THIS_MONTH, "last": IN_LAST_MONTH, "old": IN_OLD_MONTH}
    stamps |= {"y1990": Y1990, "y2090": Y2090}
    with session_scope(factory) as session:
        for name, at in stamps.items():
            fields = {k: v for k, v in asdict(make(name, at)).items() if k != "extra"}
            fields.pop("branch")  # added by migration 0012, after this schema
            fields |= {"is_repeat": False, "is_multichannel": False, "status": "open"}
            fields |= {"is_complex": False}
            old_table = table("complaints", *(column(k) for k in fields))
            session.execute(insert(old_table).values(**fields))
    with factory() as session:
        before = dict(session.execute(select(Complaint.external_id, Complaint.id)).all())

    _migrate(bare_engine, "head")

    where = _where(bare_engine)
    assert where["now"] == f"complaints_{THIS_MONTH:%Y_%m}"
    assert where["last"] == f"complaints_{LAST_MONTH:%Y_%m}"
    assert where["old"] == f"complaints_{OLD_MONTH:%Y_%m}"
    assert where["y1990"] == where["y2090"] == "complaints_default"
    assert _keys(bare_engine) == {("s1", name): before[name] for name in stamps}
    with factory() as session:  # ids kept; new ones continue the same sequence
        assert dict(session.execute(select(Complaint.external_id, Complaint.id)).all()) == before
        result = ingest_complaints(session, [make("now"), make("fresh")])
        session.commit()
        assert (result.inserted, result.duplicates) == (1, 1)
        fresh = session.scalars(select(Complaint.id).where(Complaint.external_id == "fresh")).one()
    assert fresh > max(before.values())


def test_downgrade_restores_one_table_with_the_unique_key(bare_engine):
    upgrade_to_head(bare_engine)
    factory = make_session_factory(bare_engine)
    with session_scope(factory) as session:
        ingest_complaints(session, [make("a"), make("b", Y1990), make("c", IN_LAST_MONTH)])

    _migrate(bare_engine, "0003_extension_level", down=True)

    with bare_engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('complaint_keys')")).scalar() is None
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = 'complaints'::regclass"))
        assert kind.scalar() == "r"
        assert conn.execute(text("SELECT count(*) FROM complaints")).scalar() == 3
        constraints = set(
            conn.execute(
                text("SELECT conname FROM pg_constraint WHERE conrelid = 'complaints'::regclass")
            ).scalars()
        )
    assert constraints == {"complaints_pkey", "uq_complaints_source_external_id"}
    _migrate(bare_engine, "head")  # and up again, keys rebuilt from the rows
    assert set(_keys(bare_engine)) == {("s1", "a"), ("s1", "b"), ("s1", "c")}


def test_repeated_delivery_is_stored_once(pg_engine):
    factory = make_session_factory(pg_engine)
    with session_scope(factory) as session:
        first = ingest_complaints(session, [make("a"), make("b", Y2090), make("a")])
    with session_scope(factory) as session:
        again = ingest_complaints(session, [make("a"), make("b", Y2090), make("c", Y1990)])
    assert (first.inserted, first.duplicates, again.inserted, again.duplicates) == (2, 1, 1, 2)
    with factory() as session:
        stored = session.execute(select(Complaint.id, Complaint.external_id)).all()
    assert sorted(e for _, e in stored) == ["a", "b", "c"]
    assert _keys(pg_engine) == {("s1", e): i for i, e in stored}


def _wait_until_blocked(engine: Engine, pid: int) -> None:
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            state = conn.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if state == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError("the second delivery never waited on the first one's keys")


@pytest.mark.parametrize("first_commits", [True, False])
def test_two_transactions_delivering_overlapping_keys_store_each_once(pg_engine, first_commits):
    factory = make_session_factory(pg_engine)
    first_ids = [f"k{i:03d}" for i in range(0, 100)]
    second_ids = [f"k{i:03d}" for i in range(50, 150)]
    outcome: dict[str, Any] = {}  # "result" (an IngestResult) or "error" (the exception)
    with factory() as first, factory() as second:
        second_pid = second.execute(text("SELECT pg_backend_pid()")).scalar_one()
        inserted_first = ingest_complaints(first, [make(e) for e in first_ids]).inserted

        def deliver() -> None:
            try:
                outcome["result"] = ingest_complaints(second, [make(e) for e in second_ids])
                second.commit()
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        worker = threading.Thread(target=deliver)
        worker.start()
        _wait_until_blocked(pg_engine, second_pid)
        first.commit() if first_commits else first.rollback()
        worker.join(timeout=30)
    assert "error" not in outcome and not worker.is_alive()
    assert inserted_first == 100
    assert outcome["result"].inserted == (50 if first_commits else 100)
    with factory() as session:
        stored = session.scalars(select(Complaint.external_id)).all()
    expected = set(first_ids) | set(second_ids) if first_commits else set(second_ids)
    assert sorted(stored) == sorted(expected)  # every key once, none lost
    assert set(_keys(pg_engine)) == {("s1", e) for e in expected}


def test_partitions_are_created_ahead_and_idempotently(pg_engine):
    later = datetime(2031, 5, 20, tzinfo=UTC)
    with pg_engine.begin() as conn:
        created = ensure_partitions(conn, later)
    assert created == [f"complaints_2031_{m:02d}" for m in range(4, 9)]
    with pg_engine.begin() as conn:
        assert ensure_partitions(conn, later) == []
    assert maintain(pg_engine, lambda: later) == []
    assert {f"complaints_2031_{m:02d}" for m in range(4, 9)} <= _partitions(pg_engine)


def test_rows_that_landed_in_default_move_to_their_new_partition(pg_engine):
    factory = make_session_factory(pg_engine)
    with session_scope(factory) as session:
        ingest_complaints(session, [make("old", IN_OLD_MONTH), make("y1990", Y1990)])
    assert _where(pg_engine)["old"] == "complaints_default"  # no partition for that month yet
    ids_before = _keys(pg_engine)

    with pg_engine.begin() as conn:
        created = ensure_partitions(conn, NOW)

    assert created == [f"complaints_{OLD_MONTH:%Y_%m}"]
    where = _where(pg_engine)
    assert where == {"old": created[0], "y1990": "complaints_default"}
    assert _keys(pg_engine) == ids_before
    with factory() as session:  # still found by id, still deduplicated
        assert session.get_one(Complaint, ids_before[("s1", "old")]).received_at == IN_OLD_MONTH
        assert ingest_complaints(session, [make("old", IN_OLD_MONTH)]).inserted == 0


def test_a_bounded_received_at_range_reads_only_its_partitions(pg_engine):
    factory = make_session_factory(pg_engine)
    with session_scope(factory) as session:
        ingest_complaints(
            session, [make(f"p{i}", IN_THIS_MONTH + timedelta(hours=i)) for i in range(5)]
        )
    bounds = {"lo": IN_THIS_MONTH, "hi": IN_THIS_MONTH + timedelta(days=7)}
    sql = "SELECT count(*) FROM complaints WHERE received_at >= :lo AND received_at < :hi"
    with pg_engine.connect() as conn:
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}"), bounds).scalars())
    assert f"complaints_{THIS_MONTH:%Y_%m}" in plan
    others = (_partitions(pg_engine) - {f"complaints_{THIS_MONTH:%Y_%m}"}) | {"complaints_default"}
    assert not [name for name in others if name in plan], plan


def test_retention_blanks_texts_across_partitions(pg_engine):
    factory = make_session_factory(pg_engine)
    with session_scope(factory) as session:
        ingest_complaints(
            session, [make("y1990", Y1990), make("old", IN_OLD_MONTH), make("now", NOW)]
        )
    result = apply_retention(factory, NOW, days=30, batch=1)
    assert result.texts_blanked == 2
    with factory() as session:
        texts = dict(session.execute(select(Complaint.external_id, Complaint.text)).all())
    assert texts == {"y1990": "", "old": "", "now": "投诉 now"}


def test_repeat_flags_are_found_across_partitions_and_in_default(pg_engine):
    """Repeat lookups read each overlapping month's partition and DEFAULT by customer (see
    storage.ingest._customer_lookups): a repeat across a month boundary, and one whose earlier
    complaint sits in DEFAULT, are both flagged; one 31 days later is not."""
    factory = make_session_factory(pg_engine)

    def complaint(external_id: str, at: datetime, channel: str = "hotline"):
        return NormalizedComplaint(**{
            **asdict(make(external_id, at)), "customer_key": "k1", "channel": channel
        })  # fmt: skip

    end_of_last_month = datetime(THIS_MONTH.year, THIS_MONTH.month, 1, tzinfo=UTC) - timedelta(
        hours=3
    )
    with session_scope(factory) as session:
        ingest_complaints(session, [complaint("late-last-month", end_of_last_month)])
        ingest_complaints(session, [complaint("far-future", Y2090)])
    with session_scope(factory) as session:
        ingest_complaints(
            session,
            [
                complaint("early-this-month", IN_THIS_MONTH, channel="web"),
                complaint("far-future-again", Y2090 + timedelta(days=2)),
                complaint("too-late", Y2090 + timedelta(days=33)),
            ],
        )
    with pg_engine.connect() as conn:
        flags = dict(
            conn.execute(
                text("SELECT external_id, (is_repeat, is_multichannel)::text FROM complaints")
            ).all()
        )
        in_default = set(conn.execute(text("SELECT external_id FROM complaints_default")).scalars())
    assert {"far-future", "far-future-again", "too-late"} <= in_default
    assert flags == {
        "late-last-month": "(f,t)",  # another channel within 30 days: multi-channel
        "early-this-month": "(t,t)",  # a repeat of last month's, across the partition boundary
        "far-future": "(f,f)",
        "far-future-again": "(t,f)",  # its earlier complaint is in DEFAULT
        "too-late": "(f,f)",  # 31 days after the previous one
    }
