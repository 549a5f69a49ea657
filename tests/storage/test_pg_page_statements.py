"""PostgreSQL ingest's page statements: the binary COPY stores values exactly, and the
repeat-candidates query keeps the plan it was measured with: one probe of the
customer index per page row (storage.pg_ingest._candidates_sql).

The planner misjudged both ways it would otherwise go: a hash join over all of ``complaints``
(1.8 s per page at 3 million rows), or the product index on a fresh partition without
statistics (twice as slow, and a product in a surge has thousands of complaints to step over).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from domain.records import NormalizedComplaint
from storage import pg_ingest
from storage.db import make_session_factory
from storage.ingest import ingest_complaints
from storage.models import INGESTED_COLUMNS, Complaint

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def complaint(i: int) -> NormalizedComplaint:
    return NormalizedComplaint(
        source="plan",
        external_id=f"e{i}",
        received_at=T0 + timedelta(minutes=i),
        collected_at=T0 + timedelta(days=30),
        channel="hotline",
        product_code=f"P{i % 20}",  # few products: their index looks attractive
        customer_key=f"c{i:06d}",
    )


@pytest.mark.postgres
def test_the_candidates_query_probes_the_customer_index_per_page_row(postgres_engine):
    factory = make_session_factory(postgres_engine)
    with factory() as session:  # stored before: a fresh partition, never analysed
        ingest_complaints(session, [complaint(i) for i in range(5000)])
        session.commit()
    with factory() as session:
        pg_ingest.insert_and_count_postgres(session, [complaint(i) for i in range(5000, 10000)])
        temp = pg_ingest._statements(INGESTED_COLUMNS, True)[4]  # the page is still in it
        sql = "EXPLAIN " + pg_ingest._candidates_sql(temp)
        plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(sql))
        session.rollback()

    assert "SubPlan" in plan, plan  # a probe per page row, not a join
    assert "Join" not in plan, plan
    probes = [line for line in plan.splitlines() if "Index" in line and " on complaints_" in line]
    assert probes, plan
    assert all("customer_key_product_code_received_at_idx" in line for line in probes), plan


@pytest.mark.postgres
def test_binary_copy_stores_every_character_and_microsecond(postgres_engine):
    """The page goes to the server as binary COPY: text and times come back exactly."""
    texts = [
        "退保 \\N \\t tab\there, newline\nand\r\n return; 'quotes' \"double\" ,;|",
        "emoji 😀🚗 and combining é, zero-width \u200b, full-width ＡＢＣ",
        "长" * 20_000,
        "",
    ]
    stamps = [
        T0 + timedelta(microseconds=1),
        T0.astimezone(timezone(timedelta(hours=8))) + timedelta(seconds=59, microseconds=999_999),
        T0 + timedelta(days=400),
        T0 - timedelta(days=400),
    ]
    page = [
        NormalizedComplaint(
            source="copy",
            external_id=f"x\\{i}\t",
            received_at=stamp,
            collected_at=T0,
            channel="hotline",
            product_code="P-\\N",
            product_name="产品" * 64,
            text=text,
            customer_key="",
        )
        for i, (text, stamp) in enumerate(zip(texts, stamps, strict=True))
    ]
    factory = make_session_factory(postgres_engine)
    with factory() as session:
        assert ingest_complaints(session, page).inserted == 4
        session.commit()
        rows = session.execute(
            select(
                Complaint.external_id, Complaint.received_at, Complaint.text, Complaint.product_name
            )
            .where(Complaint.source == "copy")
            .order_by(Complaint.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (c.external_id, c.received_at, c.text, c.product_name) for c in page
    ]
