"""Random and hostile records: normalisation never crashes; every record ends stored or quarantined."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from collectors.base import Batch
from collectors.normalize import RecordRejected, normalize, parse_time
from collectors.runner import collect_once
from config.sources import ProductAlias
from domain.products import ProductTable
from storage.models import Complaint, QuarantinedRecord

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from(
        [
            "\x00\x01\x02",
            "\ud800broken",
            "<script>alert(1)</script>",
            "'; DROP TABLE complaints; --",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00",
            "2026-13-45 99:99",
            "x" * 200_000,
            "广东省" * 50,
        ]
    ),
)
value = st.one_of(
    st.none(),
    hostile_text,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
times = st.one_of(
    value,
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 11, 22)).map(str),
)
record = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(value, st.text(min_size=1, max_size=20)),
        "received_at": times,
        "channel": st.one_of(value, st.sampled_from(["热线", "hotline", "APP", "微博"])),
        "product_code": value,
        "product_name": value,
        "region": value,
        "category": value,
        "event_tag": value,
        "text": value,
        "customer_phone": value,
    },
)
raw = st.one_of(record, value)
PRODUCTS = ProductTable([ProductAlias(code="CAR-001", name="安心车险", aliases=["安心车"])])


@settings(max_examples=400, deadline=None)
@given(raw)
def test_normalize_never_crashes(item):
    try:
        complaint = normalize(item, "fuzz", NOW, PRODUCTS)
    except RecordRejected:
        return
    assert complaint.external_id and len(complaint.external_id) <= 128
    assert complaint.received_at.tzinfo is not None
    assert "\x00" not in complaint.text and len(complaint.text) <= 20_000


@settings(max_examples=200, deadline=None)
@given(times)
def test_parse_time_is_aware_or_rejects(item):
    with contextlib.suppress(RecordRejected):
        assert parse_time(item).utcoffset() is not None


class ListSource:
    def __init__(self, records: list) -> None:
        self.records = records

    def fetch(self, cursor: str, now: datetime) -> Batch:
        return Batch(records=self.records, cursor=cursor)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(raw, max_size=12))
def test_every_record_is_stored_or_quarantined(factory, items):
    with factory() as session:
        before_q = session.scalar(select(func.count()).select_from(QuarantinedRecord))
        before_c = session.scalar(select(func.count()).select_from(Complaint))
    result = collect_once(factory, "fuzz", "test", ListSource(items), NOW)
    assert result.error == ""
    with factory() as session:
        after_q = session.scalar(select(func.count()).select_from(QuarantinedRecord))
        after_c = session.scalar(select(func.count()).select_from(Complaint))
    assert result.inserted + result.duplicates + result.quarantined == len(items)
    assert after_q - before_q == result.quarantined
    assert after_c - before_c == result.inserted
