from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain.buckets import bucket_start
from domain.records import NormalizedComplaint
from storage.ingest import Rejected, add_counts, ingest_complaints, quarantine
from storage.models import Complaint, ComplaintCount, QuarantinedRecord

T0 = datetime(2026, 11, 23, 2, 3, tzinfo=UTC)


def make(external_id: str, at: datetime = T0, product: str = "CAR-001", source: str = "s1"):
    return NormalizedComplaint(
        source=source,
        external_id=external_id,
        received_at=at,
        collected_at=at,
        channel="hotline",
        product_code=product,
        product_line="车险",
        region="广东",
        category="理赔",
    )


def test_redelivery_is_stored_once_and_counted_once(session):
    first = ingest_complaints(session, [make("a"), make("b"), make("a")])
    session.commit()
    again = ingest_complaints(session, [make("a"), make("b"), make("c")])
    session.commit()
    assert (first.inserted, first.duplicates) == (2, 1)
    assert (again.inserted, again.duplicates) == (1, 2)
    assert session.scalar(select(func.count()).select_from(Complaint)) == 3
    assert session.scalar(select(func.sum(ComplaintCount.count))) == 3


def test_same_external_id_from_another_source_is_a_different_complaint(session):
    result = ingest_complaints(session, [make("a", source="s1"), make("a", source="s2")])
    session.commit()
    assert result.inserted == 2


def test_counts_roll_up_into_five_minute_buckets(session):
    times = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)]
    ingest_complaints(session, [make(str(i), at) for i, at in enumerate(times)])
    session.commit()
    rows = session.execute(select(ComplaintCount.bucket_start, ComplaintCount.count)).all()
    assert sorted((r[0], r[1]) for r in rows) == [
        (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), 2),
        (datetime(2026, 11, 23, 2, 5, tzinfo=UTC), 1),
    ]


def test_count_upsert_adds_and_subtracts_with_any_label(session):
    """Labels travel as JSON on PostgreSQL: quotes, backslashes, emoji and CJK come back as sent."""
    labels = ['产品"A"', "back\\slash", "粤 🚗", ""]  # product code, line, region, category
    key = (T0.replace(minute=0), "s1", "hotline", *labels, "tag\n", "深圳分公司")
    other = (T0.replace(minute=5), "s1", "web", "P2", "", "", "", "", "")
    add_counts(session, Counter({key: 3, other: 1}))
    add_counts(session, Counter({key: -1, other: 0}))  # a corrected count-only delivery
    session.commit()
    columns = (ComplaintCount.bucket_start, ComplaintCount.source, ComplaintCount.channel,
               ComplaintCount.product_code, ComplaintCount.product_line, ComplaintCount.region,
               ComplaintCount.category, ComplaintCount.event_tag, ComplaintCount.branch,
               ComplaintCount.count)  # fmt: skip
    rows = sorted(tuple(r) for r in session.execute(select(*columns)))
    assert rows == [(*key, 2), (*other, 1)]


def test_timestamps_come_back_aware_and_in_utc(session):
    shanghai = timezone(timedelta(hours=8))
    ingest_complaints(session, [make("x", datetime(2026, 11, 23, 10, 3, tzinfo=shanghai))])
    session.commit()
    stored = session.scalar(select(Complaint.received_at))
    assert stored == T0 and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(session):
    naive = make("n", datetime(2026, 11, 23, 2, 0))
    with pytest.raises(Exception, match="naive datetime"):
        ingest_complaints(session, [naive])


def test_quarantine_keeps_reason_and_payload(session):
    quarantine(session, "s1", [Rejected("r1", "missing received_at", '{"id": "r1"}')], T0)
    session.commit()
    row = session.scalars(select(QuarantinedRecord)).one()
    assert (row.source, row.external_id, row.reason) == ("s1", "r1", "missing received_at")


def test_quarantine_keeps_a_record_once_but_every_distinct_one(session):
    bad = Rejected("r1", "missing received_at", '{"id": "r1"}')
    assert quarantine(session, "s1", [bad, bad], T0) == 1  # twice in one delivery
    session.commit()
    later = T0 + timedelta(days=3)
    distinct = [
        bad,  # delivered again: not kept twice
        Rejected("r1", "unknown channel: '信鸽'", '{"id": "r1"}'),  # same id, another reason
        Rejected("r1", "missing received_at", '{"id": "r1", "text": "改"}'),  # changed record
        Rejected("", "row is not an object", "[1]"),  # no id: told apart by the payload
        Rejected("", "row is not an object", "[2]"),
    ]
    assert quarantine(session, "s2", [bad], T0) == 1  # another source keeps its own
    assert quarantine(session, "s1", distinct, later) == 4
    assert quarantine(session, "s1", distinct, later) == 0
    session.commit()
    rows = session.execute(
        select(QuarantinedRecord.source, QuarantinedRecord.quarantined_at).order_by(
            QuarantinedRecord.id
        )
    ).all()
    assert [(s, at == T0) for s, at in rows] == [("s1", True), ("s2", True)] + [("s1", False)] * 4


def test_bucket_start_floors_to_five_minutes():
    assert bucket_start(datetime(2026, 1, 1, 8, 59, 59, tzinfo=UTC)).minute == 55
