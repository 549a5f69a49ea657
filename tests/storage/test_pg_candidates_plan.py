"""PostgreSQL's repeat-candidates query keeps the plan it was measured with: one probe of the
customer index per page row (storage.pg_ingest._candidates_sql).

The planner misjudged both ways it would otherwise go: a hash join over all of ``complaints``
(1.8 s per page at 3 million rows), or the product index on a fresh partition without
statistics (twice as slow, and a product in a surge has thousands of complaints to step over).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import NormalizedComplaint
from storage import pg_ingest
from storage.db import make_session_factory
from storage.ingest import ingest_complaints
from storage.models import INGESTED_COLUMNS

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
