"""The operations that differ between the databases give the same answers on both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.dialect import dialect_of
from storage.ingest import ingest_complaints
from storage.models import Complaint
from tests.storage.test_ingest import make

EVENING = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 01:30 the next day in Shanghai


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Asia/Shanghai", "2026-11-24"), ("UTC", "2026-11-23"), ("America/Bogota", "2026-11-23")],
)
def test_the_local_day_of_a_stored_time_follows_the_zone(session, zone, day):
    ingest_complaints(session, [make("late", EVENING)])
    session.flush()
    local_day = dialect_of(session).local_day(Complaint.received_at, zone)
    assert str(session.scalar(select(local_day))) == day


def test_epoch_seconds_of_a_stored_time(session):
    ingest_complaints(session, [make("a", EVENING)])
    session.flush()
    epoch = dialect_of(session).epoch_seconds(Complaint.received_at)
    assert session.scalar(select(epoch)) == int(EVENING.timestamp())
