"""The SQL source against a real source database (a SQLite file and a PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from collectors.sql_query import SqlCollector
from config.sources import SqlSource
from storage.models import SourceState
from tests.collectors.helpers import complaints, counted, quarantined, run, state, stored_ids
from tests.conftest import _PG_REASON, POSTGRES_URL

DDL = """CREATE TABLE crm_tickets (
    ticket_no VARCHAR(20) PRIMARY KEY,
    created TIMESTAMP,
    updated_at TIMESTAMP,
    via VARCHAR(20),
    product VARCHAR(40),
    province VARCHAR(20),
    body TEXT,
    mobile VARCHAR(20)
)"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def source_url(request, tmp_path) -> Iterator[str]:
    """A real source database of its own, separate from the radar database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(DDL))
        engine.dispose()
        yield url
        return
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    schema = f"crm_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'SET search_path TO "{schema}"'))
        conn.execute(text(DDL))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def insert(url: str, *rows: tuple) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO crm_tickets VALUES (:no, :created, :updated, :via, :product, :prov, :body, :mobile)"
            ),
            [
                dict(
                    zip(
                        ["no", "created", "updated", "via", "product", "prov", "body", "mobile"],
                        r,
                        strict=True,
                    )
                )
                for r in rows
            ],
        )
    engine.dispose()


def source(url: str, **overrides) -> SqlCollector:
    os.environ["RADAR_TEST_CRM_URL"] = url
    config = {
        "name": "crm",
        "kind": "sql",
        "url_env": "RADAR_TEST_CRM_URL",
        "query": "SELECT * FROM crm_tickets",
        "cursor_column": "updated_at",
        "id_column": "ticket_no",
        "batch_size": 2,
        "columns": {
            "id": "ticket_no",
            "received_at": "created",
            "channel": "via",
            "product_name": "product",
            "region": "province",
            "text": "body",
            "customer_phone": "mobile",
        },
    }
    return SqlCollector(SqlSource.model_validate({**config, **overrides}))


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute)


def test_incremental_query_with_ties_never_skips_or_doubles(factory, source_url):
    # Three rows share one updated_at, and the batch size (2) ends in the middle of them.
    insert(
        source_url,
        ("A", t(9), t(10), "热线", "安心车险", "广东省", "理赔慢", "13812345678"),
        ("B", t(9), t(10), "热线", "安心车险", "粤", "拒赔", None),
        ("C", t(9), t(10), "网页", "安心车险", "广东", "退保难", None),
        ("D", t(9, 5), t(10, 1), "热线", "安心车险", "湖北", "态度差", None),
    )
    collector = source(source_url)
    result = run(factory, "crm", "sql", collector)
    assert (result.inserted, result.quarantined, result.error) == (4, 0, "")
    assert stored_ids(factory, "crm") == ["A", "B", "C", "D"]
    # New rows with the same timestamp as the cursor, plus a later update of an old row.
    insert(source_url, ("E", t(9, 6), t(10, 1), "热线", "安心车险", "湖北", "新的", None))
    engine = create_engine(source_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE crm_tickets SET updated_at = :u WHERE ticket_no = 'A'"), {"u": t(11)}
        )
    engine.dispose()
    result = run(factory, "crm", "sql", collector)
    assert (result.inserted, result.duplicates) == (1, 1)
    assert stored_ids(factory, "crm") == ["A", "B", "C", "D", "E"]
    assert counted(factory, "crm") == 5
    rows = {c.external_id: c for c in complaints(factory, "crm")}
    assert rows["A"].received_at.isoformat() == "2026-11-23T01:00:00+00:00"  # naive = Shanghai
    assert rows["A"].region == rows["B"].region == "广东" and rows["C"].channel == "web"
    health = state(factory, "crm")
    assert health.records_last_run == 1 and health.consecutive_failures == 0


def test_restart_from_saved_cursor_and_bad_rows_quarantined(factory, source_url):
    insert(
        source_url,
        ("A", t(9), t(10), "热线", "安心车险", "广东", "好", None),
        ("B", None, t(10, 1), "热线", "安心车险", "广东", "没有受理时间", None),
        ("C", t(9), t(10, 2), "信鸽", "安心车险", "广东", "渠道不明", None),
        ("Z", t(9), None, "热线", "安心车险", "广东", "没有更新时间", None),
    )
    assert run(factory, "crm", "sql", source(source_url)).inserted == 2  # A, and Z (NULL pass)
    # A new process (fresh collector) continues from the stored cursor.
    insert(source_url, ("F", t(9, 30), t(10, 30), "热线", "安心车险", "广东", "后来的", None))
    result = run(factory, "crm", "sql", source(source_url))
    assert (result.inserted, result.duplicates, result.quarantined) == (1, 0, 0)
    assert stored_ids(factory, "crm") == ["A", "F", "Z"]
    reasons = sorted(q.reason for q in quarantined(factory, "crm"))
    assert reasons[0] == "missing received_at" and reasons[1].startswith("unknown channel")


def test_rows_with_a_null_cursor_column_are_read_once_by_id(factory, source_url):
    # The CRM fills updated_at only on the first update: most new tickets have NULL there.
    insert(
        source_url,
        ("A", t(9), t(10), "热线", "安心车险", "广东", "已更新", None),
        ("N1", t(9, 1), None, "热线", "安心车险", "广东", "未更新1", None),
        ("N2", t(9, 2), None, "热线", "安心车险", "广东", "未更新2", None),
        ("N3", t(9, 3), None, "热线", "安心车险", "广东", "未更新3", None),
        ("N4", None, None, "热线", "安心车险", "广东", "没有受理时间", None),
    )
    collector = source(source_url)  # batch_size 2: the NULL pass spans several batches
    result = run(factory, "crm", "sql", collector)
    assert (result.inserted, result.quarantined, result.error) == (4, 1, "")
    assert stored_ids(factory, "crm") == ["A", "N1", "N2", "N3"]
    # Nothing new: nothing read again, the bad row is not quarantined a second time.
    result = run(factory, "crm", "sql", collector)
    assert (result.fetched, result.inserted, result.quarantined) == (0, 0, 0)
    # A new NULL-cursor ticket arrives, and an old one gets its first update: each stored once.
    insert(source_url, ("N5", t(9, 5), None, "热线", "安心车险", "广东", "新的", None))
    engine = create_engine(source_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE crm_tickets SET updated_at = :u WHERE ticket_no = 'N2'"), {"u": t(12)}
        )
    engine.dispose()
    result = run(factory, "crm", "sql", collector)
    assert (result.fetched, result.inserted, result.duplicates) == (2, 1, 1)
    assert stored_ids(factory, "crm") == ["A", "N1", "N2", "N3", "N5"]
    assert counted(factory, "crm") == 5 and len(quarantined(factory, "crm")) == 1


def test_cursor_saved_before_the_null_pass_recovers_the_skipped_rows(factory, source_url):
    insert(
        source_url,
        ("A", t(9), t(10), "热线", "安心车险", "广东", "好", None),
        ("N1", t(9, 1), None, "热线", "安心车险", "广东", "以前读不到", None),
    )
    with factory() as session, session.begin():  # the cursor an older version left behind
        old = '{"ts": {"t": "datetime", "v": "2026-11-23T10:00:00"}, "id": {"t": "str", "v": "A"}}'
        session.add(SourceState(name="crm", kind="sql", cursor=old))
    result = run(factory, "crm", "sql", source(source_url))
    assert (result.inserted, result.duplicates) == (1, 0)
    assert stored_ids(factory, "crm") == ["N1"]


def test_id_cursor_and_unreachable_database(factory, source_url, tmp_path):
    insert(
        source_url, *[(f"N{i}", t(9, i), t(9, i), "热线", "x", "广东", "", None) for i in range(5)]
    )
    collector = source(source_url, cursor_column="ticket_no", batch_size=3)
    assert run(factory, "crm", "sql", collector).inserted == 5
    os.environ["RADAR_TEST_CRM_URL"] = "postgresql+psycopg://u:s3cret@127.0.0.1:1/none"
    broken = source("postgresql+psycopg://u:s3cret@127.0.0.1:1/none")
    result = run(factory, "crm", "sql", broken)
    assert result.error and "s3cret" not in result.error
    health = state(factory, "crm")
    assert health.consecutive_failures == 1 and "s3cret" not in health.last_error
    assert stored_ids(factory, "crm") == [f"N{i}" for i in range(5)]


def test_password_in_url_is_refused_by_config():
    with pytest.raises(ValueError, match="password"):
        SqlSource.model_validate(
            {
                "name": "crm",
                "kind": "sql",
                "url": "postgresql://u:pw@db/crm",
                "query": "SELECT 1",
                "cursor_column": "a",
                "id_column": "b",
            }
        )
