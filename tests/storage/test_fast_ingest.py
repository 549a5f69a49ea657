"""The DBAPI paths of ingest (SQLite pre-select + executemany with ids chosen under the write
lock, count upserts and repeat flags through the driver) store exactly what a straightforward
SQLAlchemy version (here, in the test) stores: the same rows, ids, stored text, counts and
flags, batch after batch, with duplicates inside a batch, re-deliveries and overlapping batches."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.buckets import bucket_start
from domain.records import NormalizedComplaint
from storage import ingest, repeats
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import COUNT_DIMENSIONS, INGESTED_COLUMNS, Complaint, ComplaintCount
from storage.types import sqlite_time

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def reference_add_counts(session: Session, counts: Counter) -> None:
    """add_counts as it was: SQLAlchemy Core upsert."""
    values = [
        {"bucket_start": k[0], **dict(zip(COUNT_DIMENSIONS, k[1:], strict=True)), "count": n}
        for k, n in sorted(counts.items())
        if n
    ]
    if values:
        table = ComplaintCount.__table__
        assert isinstance(table, Table)  # declared as a FromClause; a mapped class has a Table
        statement = sqlite_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["bucket_start", *COUNT_DIMENSIONS],
            set_={"count": table.c.count + statement.excluded.count},
        )
        session.execute(statement, values)


def reference_mark_repeats(session: Session, new_rows) -> None:
    """mark_repeats as it was: ORM select of every complaint of the customer, ORM bulk update."""
    pairs = {(r["customer_key"], r["product_code"]) for r in new_rows if r["customer_key"]}
    pairs = {p for p in pairs if p[1]}
    groups: dict = {}
    for row in session.execute(select(Complaint).where(Complaint.customer_key != "")).scalars():
        if (row.customer_key, row.product_code) in pairs:
            groups.setdefault((row.customer_key, row.product_code), []).append(row)
    changes = []
    for rows in groups.values():
        seen = [
            repeats._Seen(r.id, r.received_at, r.channel, r.is_repeat, r.is_multichannel)
            for r in rows
        ]
        for row_id, (repeat, multi) in repeats.repeat_flags(seen).items():
            old = next(s for s in seen if s.id == row_id)
            # rows outside the 30-day query window of the fast path only matter through neighbours
            if (repeat and not old.is_repeat) or (multi and not old.is_multichannel):
                changes.append(
                    {"id": row_id, "is_repeat": repeat or old.is_repeat,
                     "is_multichannel": multi or old.is_multichannel}
                )  # fmt: skip
    if changes:
        session.execute(update(Complaint), changes)


def reference_insert(session: Session, complaints) -> list[dict]:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` a row at a time; the first of a key wins."""
    unique: dict = {}
    for c in complaints:
        unique.setdefault((c.source, c.external_id), {n: getattr(c, n) for n in INGESTED_COLUMNS})
    table = Complaint.__table__
    assert isinstance(table, Table)  # declared as a FromClause; a mapped class has a Table
    statement = (
        sqlite_insert(table)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(table.c.id)
    )
    inserted = []
    for row in unique.values():
        new_id = session.execute(statement, row).scalar()
        if new_id is not None:
            inserted.append({**row, "id": new_id})
    return inserted


def reference_ingest(session: Session, complaints) -> tuple[int, int]:
    inserted = reference_insert(session, complaints)
    rollup = Counter(
        (bucket_start(r["received_at"]), *(r[d] for d in COUNT_DIMENSIONS)) for r in inserted
    )
    reference_add_counts(session, rollup)
    reference_mark_repeats(session, inserted)
    return len(inserted), len(complaints) - len(inserted)


complaint = st.builds(
    lambda i, minutes, channel, product, customer, zone: NormalizedComplaint(
        source=f"s{i % 2}",
        external_id=f"e{i}",
        received_at=(T0 + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=zone))),
        collected_at=T0 + timedelta(days=90),
        channel=channel,
        product_code=product,
        product_line="车险",
        region="广东",
        category="理赔",
        text=f"投诉 {i}",
        customer_key=customer,
    ),
    st.integers(0, 40),
    st.integers(0, 90 * 24 * 60).map(lambda m: m + 0.000001 * (m % 7)),
    st.sampled_from(["hotline", "web", "app"]),
    st.sampled_from(["", "P1", "P2"]),
    st.sampled_from(["", "c1", "c2", "c3"]),
    st.sampled_from([0, 8, -5]),
)
batches = st.lists(st.lists(complaint, max_size=25), min_size=1, max_size=5)


def snapshot(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        complaints = conn.exec_driver_sql("SELECT * FROM complaints ORDER BY id").all()
        counts = conn.exec_driver_sql(
            "SELECT bucket_start, source, channel, product_code, product_line, region, category, "
            "event_tag, count FROM complaint_counts ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
        ).all()
    return complaints, counts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches)
def test_fast_path_stores_what_the_straightforward_path_stores(tmp_path_factory, pages):
    folder = tmp_path_factory.mktemp("fast")
    engines = {}
    for name in ("fast", "reference"):
        engines[name] = make_engine(f"sqlite:///{folder / name}.db")
        upgrade_to_head(engines[name])
    try:
        for page in pages:
            with make_session_factory(engines["fast"])() as session:
                result = ingest.ingest_complaints(session, page)
                session.commit()
            with make_session_factory(engines["reference"])() as session:
                expected = reference_ingest(session, page)
                session.commit()
            assert (result.inserted, result.duplicates) == expected
        fast, reference = snapshot(engines["fast"]), snapshot(engines["reference"])
        assert fast == reference
        stored = len(fast[0])
        assert sum(row[-1] for row in fast[1]) == stored  # counts equal stored rows
    finally:
        for engine in engines.values():
            engine.dispose()


def test_a_duplicate_in_a_page_and_a_page_delivered_again_are_stored_once(sqlite_engine):
    session = make_session_factory(sqlite_engine)()
    page = [
        NormalizedComplaint("s", "a", T0, T0, "hotline", "P1", customer_key="c"),
        NormalizedComplaint("s", "a", T0, T0, "hotline", "P1", customer_key="c"),
        NormalizedComplaint("s", "b", T0 + timedelta(days=1), T0, "web", "P1", customer_key="c"),
    ]
    assert ingest.ingest_complaints(session, page).inserted == 2
    session.commit()
    assert ingest.ingest_complaints(session, page).inserted == 0
    rows = session.execute(
        select(Complaint.external_id, Complaint.is_repeat, Complaint.is_multichannel).order_by(
            Complaint.id
        )
    ).all()
    assert rows == [("a", False, True), ("b", True, True)]
    session.close()


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    )
)
def test_sqlite_time_is_the_text_sqlalchemy_stores(moment):
    engine = make_engine("sqlite://")
    processor = Complaint.__table__.c.received_at.type._cached_bind_processor(engine.dialect)
    assert processor is not None
    assert sqlite_time(moment) == processor(moment)


GAPS = [timedelta(days=d) for d in (0.5, 20, 29.99, 30, 30.01, 45)]


def test_repeat_flags_reach_a_lone_neighbour_anywhere_in_the_30_days(tmp_path):
    """Each customer has one earlier complaint, a gap before the new one (and one complaint that
    arrives late, dated before a stored one): flags as the full-history reference sets them."""
    engines = {n: make_engine(f"sqlite:///{tmp_path / n}.db") for n in ("fast", "reference")}
    pages: list[list[NormalizedComplaint]] = [[], []]
    for i, gap in enumerate(GAPS):
        old = NormalizedComplaint("s", f"old{i}", T0, T0, "hotline", "P1", customer_key=f"c{i}")
        new = NormalizedComplaint("s", f"new{i}", T0 + gap, T0, "web", "P1", customer_key=f"c{i}")
        late = NormalizedComplaint("s", f"late{i}", T0 - gap, T0, "app", "P2", customer_key=f"c{i}")
        anchor = NormalizedComplaint("s", f"anc{i}", T0, T0, "web", "P2", customer_key=f"c{i}")
        pages[0] += [old, anchor]
        pages[1] += [new, late]
    try:
        for name, engine in engines.items():
            upgrade_to_head(engine)
            for page in pages:
                with make_session_factory(engine)() as session:
                    if name == "fast":
                        ingest.ingest_complaints(session, page)
                    else:
                        reference_ingest(session, page)
                    session.commit()
        assert snapshot(engines["fast"]) == snapshot(engines["reference"])
        with engines["fast"].connect() as conn:
            flags: dict[str, str] = dict(
                conn.exec_driver_sql(
                    "SELECT external_id, is_repeat || is_multichannel FROM complaints"
                ).all()
            )
        within = [gap <= repeats.REPEAT_WINDOW for gap in GAPS]
        assert [flags[f"new{i}"] == "11" for i in range(len(GAPS))] == within
        assert [flags[f"anc{i}"] == "11" for i in range(len(GAPS))] == within  # late one before it
    finally:
        for engine in engines.values():
            engine.dispose()


def semantic(engine) -> tuple[list, dict]:
    """What a dialect-independent reader sees: each complaint's key, time and flags; counts."""
    c, n = Complaint, ComplaintCount
    with engine.connect() as conn:
        complaints = sorted(
            conn.execute(
                select(
                    c.source,
                    c.external_id,
                    c.received_at,
                    c.channel,
                    c.product_code,
                    c.customer_key,
                    c.is_repeat,
                    c.is_multichannel,
                )
            ).all()
        )
        dims = [getattr(n, d) for d in COUNT_DIMENSIONS]
        counts = {
            tuple(r[:-1]): r[-1] for r in conn.execute(select(n.bucket_start, *dims, n.count))
        }
    return complaints, counts


@pytest.mark.postgres
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches)
def test_postgres_stores_what_the_straightforward_path_stores(
    postgres_engine, tmp_path_factory, pages
):
    """The one-statement store-and-count and the server-side repeat pre-filter on PostgreSQL
    against the SQLAlchemy reference path on SQLite."""
    with postgres_engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE complaints, complaint_keys, complaint_counts")
    reference = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}")
    upgrade_to_head(reference)
    try:
        for page in pages:
            with make_session_factory(postgres_engine)() as session:
                result = ingest.ingest_complaints(session, page)
                session.commit()
            with make_session_factory(reference)() as session:
                expected = reference_ingest(session, page)
                session.commit()
            assert (result.inserted, result.duplicates) == expected
        assert semantic(postgres_engine) == semantic(reference)
    finally:
        reference.dispose()


@pytest.mark.postgres
def test_postgres_repeat_flags_reach_a_lone_neighbour(postgres_engine):
    pages: list[list[NormalizedComplaint]] = [[], []]
    for i, gap in enumerate(GAPS):
        pages[0].append(
            NormalizedComplaint("s", f"old{i}", T0, T0, "hotline", "P1", customer_key=f"c{i}")
        )
        pages[1].append(
            NormalizedComplaint("s", f"new{i}", T0 + gap, T0, "web", "P1", customer_key=f"c{i}")
        )
    for page in pages:
        with make_session_factory(postgres_engine)() as session:
            ingest.ingest_complaints(session, page)
            session.commit()
    with postgres_engine.connect() as conn:
        flags = dict(conn.execute(select(Complaint.external_id, Complaint.is_repeat)).all())
    assert [flags[f"new{i}"] for i in range(len(GAPS))] == [
        g <= repeats.REPEAT_WINDOW for g in GAPS
    ]
