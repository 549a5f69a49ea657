"""What the evaluation learns from the database about complaints stored since its last tick."""

from __future__ import annotations

from datetime import timedelta

from alerts.detect.sql_reader import SqlReader
from domain.records import RawCount
from storage.ingest import deliver_counts, ingest_complaints
from tests.storage.test_ingest import T0, make


def test_earliest_receipt_time_stored_since_the_last_look(session):
    reader = SqlReader(session)
    marks: dict = {}
    ingest_complaints(session, [make("before", T0 - timedelta(days=40))])
    session.commit()
    assert reader.stored_since(marks) is None  # the first look only marks where history ends
    assert reader.stored_since(marks) is None  # nothing stored since
    week_ago = T0 - timedelta(days=7)
    ingest_complaints(session, [make("live", T0), make("late", week_ago)])
    session.commit()
    assert reader.stored_since(marks) == week_ago
    ingest_complaints(session, [make("late", week_ago), make("next", T0)])  # a re-delivery
    session.commit()
    assert reader.stored_since(marks) == T0
    assert reader.stored_since(marks) is None


def test_count_only_deliveries_count_too(session):
    reader = SqlReader(session)
    marks: dict = {}
    reader.stored_since(marks)
    yesterday = T0 - timedelta(days=1)
    rows = [RawCount("cti-1", yesterday, 60, 12, "hotline", product_code="CAR-001")]
    deliver_counts(session, "cti", rows, T0)
    session.commit()
    assert reader.stored_since(marks) == yesterday
    deliver_counts(session, "cti", rows, T0)  # the same row again: no news
    session.commit()
    assert reader.stored_since(marks) is None
    corrected = [RawCount("cti-1", yesterday, 60, 15, "hotline", product_code="CAR-001")]
    deliver_counts(session, "cti", corrected, T0)  # a correction is news about that day
    session.commit()
    assert reader.stored_since(marks) == yesterday
    deliver_counts(session, "cti", corrected, T0)
    session.commit()
    assert reader.stored_since(marks) is None
