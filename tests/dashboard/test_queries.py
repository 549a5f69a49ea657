"""Dashboard read queries against a real SQLite file and the local PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from alerts.state import actions
from dashboard import queries
from dashboard.alert_titles import row_title, window_en
from domain.calendar import HolidayCalendar
from storage.db import make_session_factory, session_scope
from storage.ingest import Rejected, quarantine
from storage.models import Complaint, SourceState
from tests.dashboard.seed import complaint, ingest, seed_burst

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Monday
DAY_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Shanghai midnight


def test_wall_summary_counts_today_last_hour_and_last_week(engine):
    ingest(
        engine,
        [
            complaint(1, NOW - timedelta(minutes=10), "hotline"),
            complaint(2, NOW - timedelta(minutes=20), "web"),
            complaint(3, NOW - timedelta(hours=3), "hotline"),
            complaint(4, DAY_START - timedelta(minutes=5), "hotline"),  # yesterday
            complaint(5, NOW - timedelta(days=7, minutes=10), "hotline"),  # last week, last hour
            complaint(6, NOW - timedelta(days=7, hours=5), "social"),  # last week, today span
            complaint(7, NOW + timedelta(days=1), "hotline"),  # not yet
        ],
    )
    summary = queries.wall_summary(engine, NOW, DAY_START)
    assert summary.today == {"hotline": 2, "web": 1}
    assert summary.last_hour == {"hotline": 1, "web": 1}
    assert summary.last_hour_last_week == {"hotline": 1}
    assert summary.today_last_week == {"hotline": 1, "social": 1}


def test_channel_trend_and_dimension_totals(engine):
    ingest(
        engine,
        [
            complaint(1, NOW - timedelta(minutes=1), "hotline", region="浙江"),
            complaint(2, NOW - timedelta(minutes=2), "hotline", region="浙江", event_tag="台风"),
            complaint(3, NOW - timedelta(minutes=7), "web", region="广东"),
            complaint(4, NOW - timedelta(minutes=8), "web", region=""),
        ],
    )
    trend = queries.channel_trend(engine, NOW - timedelta(hours=1), NOW + timedelta(minutes=5))
    assert list(trend.columns) == ["bucket_start", "channel", "count"]
    assert trend["count"].sum() == 4
    assert set(trend["channel"]) == {"hotline", "web"}
    regions = queries.dimension_totals(engine, "region", NOW - timedelta(hours=1), NOW)
    # a complaint without a region is not a region of its own on the wall
    assert list(zip(regions["value"], regions["count"], strict=True)) == [("浙江", 2), ("广东", 1)]
    events = queries.dimension_totals(engine, "event_tag", NOW - timedelta(hours=1), NOW)
    assert list(events["value"]) == ["台风"]  # untagged complaints are no event
    with pytest.raises(ValueError, match="unknown dimension"):
        queries.dimension_totals(engine, "text", NOW, NOW)


def test_top_products_names_come_from_complaints(engine):
    ingest(
        engine,
        [complaint(i, NOW - timedelta(minutes=i), product_code="HLT-001", product_name="尊享重疾险")
         for i in range(3)]
        + [complaint(10, NOW - timedelta(minutes=1))],
    )  # fmt: skip
    top = queries.top_products(engine, NOW - timedelta(hours=1), NOW + timedelta(minutes=5))
    assert list(top["product_name"]) == ["尊享重疾险", "安心交强险"]
    assert list(top["count"]) == [3, 1]


def test_top_products_are_the_busiest_then_by_code(engine):
    counts = {"P-B": 2, "P-A": 2, "P-C": 5, "P-D": 1}
    rows, n = [], 0
    for code, count in counts.items():
        for _ in range(count):
            rows.append(complaint(n, NOW - timedelta(minutes=n), product_code=code))
            n += 1
    ingest(engine, rows)
    top = queries.top_products(engine, NOW - timedelta(hours=1), NOW + timedelta(minutes=5), 3)
    assert list(top["product_code"]) == ["P-C", "P-A", "P-B"]
    assert list(top["count"]) == [5, 2, 2]


def test_alerts_listing_detail_and_evidence(engine):
    rows = seed_burst(engine, NOW)
    active = queries.active_alerts(engine)
    assert len(active) == 1
    alert_id = int(active["id"][0])
    assert active["state"][0] == "firing"
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        actions.acknowledge(session, alert_id, "zhang-wei", NOW + timedelta(minutes=3))
        actions.add_note(session, alert_id, "zhang-wei", NOW + timedelta(minutes=4), "已联系理赔部")
    detail = queries.alert_detail(engine, alert_id)
    assert detail is not None
    assert detail.alert["acknowledged_by"] == "zhang-wei"
    assert list(detail.events["kind"])[-2:] == ["acknowledged", "note"]
    assert list(detail.events["actor"])[-1] == "zhang-wei"
    ids = detail.alert["evidence"]["complaint_ids"]
    assert len(ids) == len(rows)
    samples = queries.complaints_by_ids(engine, ids, limit=3)
    assert len(samples) == 3 and samples["text"].str.contains("百万医疗").all()
    regions = queries.complaint_breakdown(engine, ids, "region")
    assert dict(zip(regions["value"], regions["count"], strict=True)) == {"浙江": 5, "江苏": 3}
    trend = queries.key_trend(
        engine, detail.alert["key"], NOW - timedelta(hours=1), NOW + timedelta(minutes=5)
    )
    assert trend["count"].sum() == len(rows)
    # a filtered rule's chart counts what the rule counted (branch-missell: sales only)
    span = (NOW - timedelta(hours=1), NOW + timedelta(minutes=5))
    zhejiang = queries.key_trend(engine, detail.alert["key"], *span, {"region": ["浙江"]})
    assert zhejiang["count"].sum() == 5
    assert queries.key_trend(engine, detail.alert["key"], *span, {"category": ["销售"]}).empty
    # a copied text's chart counts its own complaints, per 5-minute bucket
    cluster = queries.complaints_trend(engine, tuple(ids[:4]))
    assert cluster["count"].sum() == 4
    assert all(t.minute % 5 == 0 and t.second == 0 for t in cluster["bucket_start"])
    assert queries.complaints_trend(engine, ()).empty
    listed = queries.list_alerts(engine, NOW - timedelta(days=1), states=("acknowledged",))
    assert list(listed["id"]) == [alert_id]
    assert queries.list_alerts(engine, NOW - timedelta(days=1), severities=(1,)).empty
    assert queries.alert_rules(engine) == ["product-threshold"]
    assert queries.alert_detail(engine, 999_999) is None
    stats = queries.alert_stats(engine, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert stats.raised == 1 and stats.acknowledged == 1
    assert stats.median_ack_minutes == pytest.approx(3.0)


def test_source_states_quarantine_and_throughput(engine):
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(SourceState(name="hotline-db", kind="sql", last_success_at=NOW, last_error=""))
        quarantine(session, "hotline-db", [Rejected("x1", "缺少受理时间", "{}")], NOW)
    ingest(engine, [complaint(1, NOW - timedelta(minutes=3), source="hotline-db")])
    states = queries.source_states(engine)
    assert list(states["name"]) == ["hotline-db"]
    records = queries.quarantined(engine, "hotline-db")
    assert list(records["reason"]) == ["缺少受理时间"]
    assert queries.quarantined(engine, "other").empty
    throughput = queries.source_throughput(engine, NOW - timedelta(hours=1), NOW)
    assert throughput["count"].sum() == 1
    assert queries.worker_heartbeats(engine).empty


def test_ledger_repeat_stats_and_statuses(engine):
    ingest(engine, [complaint(i, NOW - timedelta(days=i)) for i in range(5)])
    with session_scope(make_session_factory(engine)) as session:
        session.execute(
            update(Complaint).where(Complaint.external_id.in_(["c1", "c2"])).values(is_repeat=True)
        )
        session.execute(
            update(Complaint)
            .where(Complaint.external_id == "c3")
            .values(is_multichannel=True, status="closed")
        )
    frame = queries.ledger(engine, NOW - timedelta(days=10), NOW + timedelta(seconds=1))
    assert list(frame["external_id"]) == ["c4", "c3", "c2", "c1", "c0"]  # oldest first
    closed = queries.ledger(engine, NOW - timedelta(days=10), NOW, statuses=("closed",))
    assert list(closed["external_id"]) == ["c3"]
    assert queries.complaint_statuses(engine) == ["closed", "open"]
    stats = queries.repeat_stats(engine, NOW - timedelta(days=10), NOW + timedelta(seconds=1))
    assert (stats.total, stats.repeat, stats.multichannel) == (5, 2, 1)
    empty = queries.repeat_stats(engine, NOW + timedelta(days=1), NOW + timedelta(days=2))
    assert (empty.total, empty.repeat, empty.multichannel) == (0, 0, 0)


def test_receipt_days_follow_the_configured_time_zone(engine):
    """``calendar.timezone`` decides which day a complaint was received on, in SQL and in Python."""
    at_1559 = datetime(2026, 11, 20, 15, 59, tzinfo=UTC)  # 23:59 Shanghai, 15:59 London
    at_2301 = datetime(2026, 11, 20, 23, 1, tzinfo=UTC)  # 07:01 Shanghai on 21st, 23:01 London
    ingest(engine, [complaint(1, at_1559), complaint(2, at_2301)])
    since, until = at_1559 - timedelta(days=1), at_2301 + timedelta(days=1)

    def days(timezone: str) -> list[str]:
        receipts = queries.ledger_receipts(engine, since, until, (), (), timezone)
        return sorted(str(row[0]) for row in receipts.itertuples(index=False))

    assert days("Asia/Shanghai") == ["2026-11-20", "2026-11-21"]
    assert days("Europe/London") == ["2026-11-20"]
    assert queries.latest_receipt_day(engine, "Asia/Shanghai") == date(2026, 11, 21)
    assert queries.latest_receipt_day(engine, "Europe/London") == date(2026, 11, 20)


def test_ledger_receipts_count_every_complaint_by_local_day_level_and_decision(engine):
    from dashboard.pages.ledger import deadline_counts

    at_1559 = datetime(2026, 11, 20, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai: 20 November
    at_1601 = datetime(2026, 11, 20, 16, 1, tzinfo=UTC)  # 00:01 in Shanghai: 21 November
    ingest(engine, [complaint(1, at_1559), complaint(2, at_1601), complaint(3, at_1601)])
    with session_scope(make_session_factory(engine)) as session:
        session.execute(
            update(Complaint).where(Complaint.external_id == "c1").values(decided_at=at_1601)
        )
    since, until = at_1559 - timedelta(days=1), at_1601 + timedelta(days=1)
    receipts = queries.ledger_receipts(engine, since, until)
    rows = sorted((str(r[0]), bool(r[3]), r[4]) for r in receipts.itertuples(index=False))
    assert rows == [("2026-11-20", True, 1), ("2026-11-21", False, 2)]
    # 15 calendar days: a 21 November complaint is due at the end of 6 December, local time.
    counts = deadline_counts(
        receipts, datetime(2026, 12, 5, 12, 0, tzinfo=UTC), "calendar", CALENDAR
    )
    assert (counts["overdue"], counts["due_soon"], counts["done"], counts["total"]) == (0, 2, 1, 3)
    counts = deadline_counts(
        receipts, datetime(2026, 12, 6, 16, 0, tzinfo=UTC), "calendar", CALENDAR
    )
    assert (counts["overdue"], counts["due_soon"]) == (2, 0)  # 00:00 on 7 December in Shanghai
    assert queries.ledger_receipts(engine, since, until, statuses=("closed",)).empty
    table = queries.ledger(engine, since, until)
    assert list(table["external_id"]) == ["c2", "c3", "c1"]  # undecided first, then oldest


def test_filter_lists_hold_each_stored_value_once(engine):
    """The index-seek listing gives what a DISTINCT gives: every non-empty value, once."""
    names = ["广州分公司", "深圳分公司", "北京分公司", "B", "A 分公司", "a"]
    ingest(
        engine,
        [complaint(i, NOW - timedelta(minutes=i), branch=names[i % 7] if i % 7 < 6 else "")
         for i in range(60)],
    )  # fmt: skip
    assert queries.complaint_branches(engine) == sorted(names)
    assert queries.complaint_statuses(engine) == ["open"]
    with pytest.raises(ValueError, match="no index"):
        queries.distinct_values(engine, "text")


def test_alert_lists_carry_the_details_an_english_title_reads(engine):
    seed_burst(engine, NOW)
    active = queries.active_alerts(engine)
    details = active["details"][0]
    assert "complaint_ids" not in details and details["window_minutes"] > 0
    title = row_title(next(active.itertuples(index=False)), "en")
    assert f" in {window_en(details['window_minutes'])} " in title, title


def test_alert_lists_name_each_product_by_its_latest_name(engine):
    seed_burst(engine, NOW)  # HLT-007, 守护百万医疗险, in the last 30 minutes
    ingest(
        engine,
        [
            complaint(
                1, NOW - timedelta(minutes=2), product_code="HLT-007", product_name="守护医疗险"
            ),
            complaint(2, NOW - timedelta(minutes=1), product_code="HLT-007", product_name=""),
            complaint(3, NOW - timedelta(days=3), product_code="HLT-008", product_name="旧名"),
        ],
    )  # the newest complaint that names it renames it; one without a name does not
    active = queries.active_alerts(engine)
    assert list(active["product_name"]) == ["守护医疗险"]
    row = next(active.itertuples(index=False))
    assert row_title(row, "zh").startswith("产品 守护医疗险（HLT-007）："), row.title
    assert row_title(row, "en").startswith("Product 守护医疗险 (HLT-007): 8 complaints")
    alert_id = int(active["id"][0])
    detail = queries.alert_detail(engine, alert_id)
    assert detail is not None and detail.alert["product_name"] == "守护医疗险"
    listed = queries.list_alerts(engine, NOW - timedelta(days=1))
    assert list(listed["product_name"]) == ["守护医疗险"]
    with Session(engine) as session:
        since = NOW - timedelta(days=7)
        names = queries.product_names(session, ["HLT-007", "HLT-008", "NONE", ""], since)
        assert names == {"HLT-007": "守护医疗险", "HLT-008": "旧名"}  # one statement for all
        # bounded by the alerts' start: older complaints are not read
        assert queries.product_names(session, ["HLT-008"], NOW - timedelta(days=1)) == {}
        assert queries.product_names(session, [], since) == {}
