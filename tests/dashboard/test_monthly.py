"""The branch's accountability month: cycle dates at the 20th/21st, month and year ends; upgraded
complaints across channels and cycle boundaries; once-per-channel counting; overdue decisions
over the 调休 of National Day; the report on SQLite and PostgreSQL, in Excel and PDF."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.mapping import resolve_columns
from collectors.normalize import normalize
from config.rules import AccountabilityConfig
from dashboard import queries
from dashboard.deadlines import decision_due
from dashboard.monthly import (
    TOTAL,
    Cycle,
    cycle_named,
    cycle_of,
    previous_cycle,
    same_cycle_last_year,
    upgraded_ids,
)
from dashboard.monthly_queries import CHUNK
from dashboard.monthly_report import (
    OPEN_SNAPSHOT_MAX_AGE,
    build_monthly_report,
    freeze_monthly_report,
    span,
    summary_cells,
    summary_text,
    to_excel,
    to_pdf,
)
from dashboard.pages.monthly import summary_frame
from domain.calendar import HolidayCalendar
from storage.models import Complaint
from tests.dashboard.seed import complaint, ingest

SHANGHAI = ZoneInfo("Asia/Shanghai")

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

LEVELS = AccountabilityConfig().channel_levels
WINDOW = timedelta(days=30)


def local(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 12, 20), date(2026, 11, 21), date(2026, 12, 20)),
        (date(2026, 12, 21), date(2026, 12, 21), date(2027, 1, 20)),
        (date(2027, 1, 5), date(2026, 12, 21), date(2027, 1, 20)),
        (date(2027, 2, 28), date(2027, 2, 21), date(2027, 3, 20)),
        (date(2027, 3, 1), date(2027, 2, 21), date(2027, 3, 20)),
    ],
)
def test_the_cycle_runs_from_the_21st_to_the_20th(day, start, end):
    cycle = cycle_of(day, 21)
    assert (cycle.start, cycle.end) == (start, end)
    assert cycle.closing_day == end + timedelta(days=1)
    assert cycle_named(cycle.name, 21) == cycle


def test_calendar_months_and_neighbours():
    february = cycle_of(date(2028, 2, 15), 1)
    assert (february.start, february.end, february.name) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
        "2028-02",
    )
    assert cycle_named("2028-02", 1) == february
    assert previous_cycle(february, 1) == Cycle(date(2028, 1, 1), date(2028, 1, 31))
    assert same_cycle_last_year(cycle_of(date(2026, 12, 1), 21), 21) == Cycle(
        date(2025, 11, 21), date(2025, 12, 20)
    )
    with pytest.raises(ValueError, match="1–28"):
        cycle_of(date(2026, 1, 1), 31)
    with pytest.raises(ValueError, match="YYYY-MM"):
        cycle_named("December", 21)


def rows(*items: tuple) -> pd.DataFrame:
    """(id, customer, product, channel, received_at)."""
    return pd.DataFrame(
        items, columns=["id", "customer_key", "product_code", "channel", "received_at"]
    )


def test_an_escalation_to_a_higher_channel_is_upgraded_even_across_the_cycle_boundary():
    frame = rows(
        (1, "k1", "P", "hotline", local(2026, 12, 20, 23)),  # last hour of the cycle
        (2, "k1", "P", "regulator", local(2026, 12, 21, 9)),  # first morning of the next
        (3, "k1", "P", "media", local(2026, 12, 22)),  # higher again
        (4, "k1", "P", "hotline", local(2026, 12, 23)),  # back down: not an upgrade
        (5, "k1", "Q", "regulator", local(2026, 12, 22)),  # another product
        (6, "", "P", "regulator", local(2026, 12, 22)),  # no customer key
        (7, "k2", "P", "web", local(2026, 12, 1)),
        (8, "k2", "P", "app", local(2026, 12, 2)),  # same level: another channel, not higher
        (9, "k3", "P", "hotline", local(2026, 10, 1)),
        (10, "k3", "P", "regulator", local(2026, 11, 15)),  # 45 days later: outside the window
    )
    assert upgraded_ids(frame, LEVELS, WINDOW) == {2, 3}


def test_the_channel_order_comes_from_configuration():
    frame = rows(
        (1, "k", "P", "regulator", local(2026, 12, 1)), (2, "k", "P", "hotline", local(2026, 12, 2))
    )
    assert upgraded_ids(frame, LEVELS, WINDOW) == set()
    assert upgraded_ids(frame, {"regulator": 1, "hotline": 2}, WINDOW) == {2}
    assert upgraded_ids(frame, {"hotline": 2}, WINDOW) == set()  # no level: takes no part


def test_a_branch_column_fills_both_branch_and_region():
    columns = resolve_columns(["工单号", "受理时间", "渠道", "分公司"], {})
    assert columns["branch"] == columns["region"] == "分公司"
    record = normalize(
        {
            "id": "1",
            "received_at": "2026-12-01 10:00",
            "channel": "热线",
            "branch": " 广州中心支公司\u200b ",
            "region": "广东",
        },
        "files",
        datetime(2026, 12, 2, tzinfo=UTC),
    )
    assert record.branch == "广州中心支公司" and record.region == "广东"


CYCLE = Cycle(date(2026, 11, 21), date(2026, 12, 20))
CONFIG = AccountabilityConfig()


def _seed(engine) -> None:
    gz, sz = {"branch": "广州分公司"}, {"branch": "深圳分公司"}
    ingest(
        engine,
        [
            # Guangzhou, this cycle: one customer from the hotline to the regulator, a repeat
            # on the hotline, and two strangers on the web.
            complaint(1, local(2026, 11, 21, 0), "hotline", customer_key="a", **gz),
            complaint(2, local(2026, 11, 25), "hotline", customer_key="a", **gz),
            complaint(3, local(2026, 12, 1), "regulator", customer_key="a", **gz),
            complaint(4, local(2026, 12, 20, 23), "web", **gz),
            complaint(5, local(2026, 12, 21, 1), "web", **gz),  # next cycle
            # Shenzhen: hotline in the previous cycle, media in this one: upgraded.
            complaint(6, local(2026, 11, 10), "hotline", customer_key="b", **sz),
            complaint(7, local(2026, 11, 22), "media", customer_key="b", **sz),
            complaint(8, local(2025, 12, 1), "hotline", **sz),  # same cycle last year
            complaint(9, local(2026, 11, 30), "app"),  # no branch given
        ],
    )


def test_the_report_counts_branches_and_channels(engine):
    _seed(engine)
    with Session(engine) as session:
        assert session.scalar(select(Complaint.branch).where(Complaint.external_id == "c1")) == (
            "广州分公司"
        )
    report = build_monthly_report(engine, CYCLE, CONFIG, local(2026, 12, 21, 12), calendar=CALENDAR)
    summary = report.summary.set_index("branch")
    gz, sz, total = (summary.loc[b].to_dict() for b in ("广州分公司", "深圳分公司", TOTAL))
    # Customer a: hotline, hotline again (a repeat, not counted again), regulator (upgraded).
    assert [gz[k] for k in ("received", "counted", "repeat", "upgraded", "multichannel")] == [
        4, 3, 2, 1, 3,
    ]  # fmt: skip
    assert gz["overdue"] == 3  # all but the one received on the 20th, at noon on the 21st
    assert gz["score"] == 1 + 5 + 1  # hotline once, regulator, web
    assert [sz[k] for k in ("received", "upgraded", "prev", "last_year", "score")] == [
        1, 1, 1, 1, 8,
    ]  # fmt: skip
    assert sz["mom"] == 0 and sz["yoy"] == 0
    assert gz["prev"] == 0 and pd.isna(gz["mom"])  # no earlier cycle: no change, never 0 %
    assert summary.loc[""].received == 1
    assert total["received"] == 6 and list(report.summary["branch"])[-1] == TOTAL
    assert report.by_channel.loc["广州分公司", "hotline"] == 1
    text = summary_text(report)
    assert "受理 6 件" in text and "升级投诉 2 件" in text


def test_overdue_decisions_count_working_days_over_national_day(engine):
    # Received on Friday 25 September 2026, undecided: 15 calendar days end on 10 October; 15
    # working days run past the National Day holiday and its 调休.
    ingest(engine, [complaint(1, local(2026, 9, 25), "hotline", branch="广州分公司")])
    cycle = Cycle(date(2026, 9, 21), date(2026, 10, 20))
    now = local(2026, 10, 12)
    by_calendar = build_monthly_report(engine, cycle, CONFIG, now, "calendar", calendar=CALENDAR)
    by_working = build_monthly_report(engine, cycle, CONFIG, now, "working", calendar=CALENDAR)
    assert by_calendar.summary.set_index("branch").loc["广州分公司"].overdue == 1
    assert by_working.summary.set_index("branch").loc["广州分公司"].overdue == 0


def test_excel_and_pdf_follow_the_language(sqlite_engine):
    _seed(sqlite_engine)
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21, 12), calendar=CALENDAR
    )
    book = load_workbook(io.BytesIO(to_excel(report, "en")))
    assert book.sheetnames == ["Branches", "Branch x channel", "Channel weights"]
    sheet = book["Branches"]
    assert [c.value for c in sheet[3]][:4] == ["Branch", "Received", "Counted", "Repeat complaints"]
    values = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["Total"][1] == 6 and isinstance(values["Total"][1], int)
    assert values["No branch given"][1] == 1
    channels = [c.value for c in book["Branch x channel"][1]]
    assert channels[0] == "Branch" and {"Hotline", "Regulator", "Media"} <= set(channels)
    zh = load_workbook(io.BytesIO(to_excel(report, "zh")))
    assert zh.sheetnames[0] == "机构汇总"
    assert to_pdf(report, "en").startswith(b"%PDF")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_draws_branch_names_without_missing_glyphs(sqlite_engine, recwarn, lang):
    # branch names stay Chinese on the English page too; a missing glyph is an empty box
    _seed(sqlite_engine)
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21, 12), calendar=CALENDAR
    )
    to_pdf(report, lang)
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert not missing, missing[:3]


def test_no_data_and_a_real_zero_read_alike_on_the_page_in_excel_and_in_the_pdf(sqlite_engine):
    # the first cycle of an installation: no cycle before it, no last year
    ingest(sqlite_engine, [complaint(1, local(2026, 12, 1), "hotline", branch="广州分公司")])
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21, 12), calendar=CALENDAR
    )
    page = summary_frame(report, "zh")
    for column in ("上期", "去年同期", "环比", "同比"):
        assert set(page[column]) == {"无数据"}, column  # not 0, as the weekly report says
    sheet = load_workbook(io.BytesIO(to_excel(report, "zh")))["机构汇总"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [row[8:12] for row in rows] == [("无数据",) * 4] * 2  # the branch and 合计
    assert rows[0][1] == 1 and rows[0][3] == 0  # received, and a real 0 repeats
    assert [row[8:] for row in summary_cells(report)] == [[None] * 4] * 2  # the PDF's cells


def test_a_branch_without_complaints_last_cycle_has_a_real_zero(sqlite_engine):
    _seed(sqlite_engine)  # 深圳 had complaints in the previous cycle, 广州 none
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21, 12), calendar=CALENDAR
    )
    page = summary_frame(report, "en").set_index("Branch")
    assert page.loc["广州分公司", "Previous cycle"] == 0
    assert page.loc["广州分公司", "vs previous"] == "No data"  # no change against 0
    sheet = load_workbook(io.BytesIO(to_excel(report, "en")))["Branches"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["广州分公司"][8] == 0 and rows["广州分公司"][10] == "No data"
    assert rows["深圳分公司"][10] == 0  # a real 0 % change, a number


def test_an_empty_cycle_says_so(sqlite_engine):
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21), calendar=CALENDAR
    )
    assert report.empty and "没有投诉" in summary_text(report)
    assert to_pdf(report).startswith(b"%PDF")


def test_a_cycle_without_complaints_after_one_with_some_compares_with_it(engine):
    # the 21st, before the new cycle's first complaint: nothing to count, last cycle's totals
    # to compare with (the page failed here: the empty counts' columns held no numbers)
    ingest(engine, [complaint(1, local(2026, 12, 1), "hotline", branch="广州分公司")])
    following = Cycle(date(2026, 12, 21), date(2027, 1, 20))
    report = build_monthly_report(engine, following, CONFIG, local(2026, 12, 21), calendar=CALENDAR)
    rows = report.summary.set_index("branch")
    assert rows.loc["广州分公司", "received"] == 0 and rows.loc["广州分公司", "prev"] == 1
    assert rows.loc[TOTAL, "prev"] == 1


def test_the_ledger_filters_by_branch(engine):
    _seed(engine)
    since, until = local(2025, 1, 1), local(2027, 1, 1)
    assert queries.complaint_branches(engine) == ["广州分公司", "深圳分公司"]
    shenzhen = queries.ledger(engine, since, until, branches=("深圳分公司",))
    assert sorted(shenzhen["external_id"]) == ["c6", "c7", "c8"]
    assert set(shenzhen["branch"]) == {"深圳分公司"}
    receipts = queries.ledger_receipts(engine, since, until, branches=("深圳分公司",))
    assert int(receipts["count"].sum()) == 3


def _upgraded(engine, cycle: Cycle, config: AccountabilityConfig = CONFIG) -> dict[str, int]:
    report = build_monthly_report(engine, cycle, config, local(2027, 6, 1), calendar=CALENDAR)
    summary = report.summary[report.summary["branch"] != TOTAL]
    return {b: int(n) for b, n in zip(summary["branch"], summary["upgraded"], strict=True) if n}


def test_an_upgrade_counts_once_per_channel_reached_like_the_complaints(engine):
    """Hotline, then social twice and the regulator: two channels reached above the hotline,
    so two upgrades; the second social complaint is a repeat, not another upgrade."""
    ingest(
        engine,
        [
            complaint(1, local(2026, 11, 22), "hotline", customer_key="a", branch="A"),
            complaint(2, local(2026, 11, 24), "social", customer_key="a", branch="A"),
            complaint(3, local(2026, 11, 26), "social", customer_key="a", branch="A"),
            complaint(4, local(2026, 11, 28), "regulator", customer_key="a", branch="A"),
        ],
    )
    assert _upgraded(engine, CYCLE) == {"A": 2}


def test_upgrades_fall_in_the_cycle_of_their_local_day_over_the_20th_21st_and_调休(engine):
    """2026: Sunday 20 September is a 调休 working day and the cycle's last; Friday 25 September
    (Mid-Autumn) a holiday; Saturday 10 October a 调休 working day. The window counts calendar
    days whatever the day types, and each upgrade falls in the cycle of its local receipt day."""
    ingest(
        engine,
        [
            # a: hotline on the 调休 Sunday, the regulator early on Monday the 21st (still the
            # 20th in UTC): upgraded in the cycle that closes in October, not September.
            complaint(1, local(2026, 9, 20, 23), "hotline", customer_key="a", branch="A"),
            complaint(2, local(2026, 9, 21, 7), "regulator", customer_key="a", branch="A"),
            # b: web on the holiday, social on the 调休 Saturday, the regulator in the last
            # minutes of the 20th, then the media on the 26th: 31 days after the web complaint
            # but 16 after the social one, so still upgraded, in the next cycle.
            complaint(3, local(2026, 9, 25), "web", customer_key="b", branch="B"),
            complaint(4, local(2026, 10, 10), "social", customer_key="b", branch="B"),
            complaint(
                5,
                local(2026, 10, 20, 23) + timedelta(minutes=59),
                "regulator",
                customer_key="b",
                branch="B",
            ),
            complaint(6, local(2026, 10, 26), "media", customer_key="b", branch="B"),
            # c: hotline, then the regulator exactly 30 days later (in) and the media 30 days
            # and a minute after the hotline but only 1 minute after the regulator (in too);
            # d: the same gap plus a minute from the hotline straight to the media (out).
            complaint(7, local(2026, 9, 22), "hotline", customer_key="c", branch="C"),
            complaint(8, local(2026, 10, 22), "regulator", customer_key="c", branch="C"),
            complaint(9, local(2026, 9, 22), "hotline", customer_key="d", branch="D"),
            complaint(
                10,
                local(2026, 10, 22) + timedelta(minutes=1),
                "media",
                customer_key="d",
                branch="D",
            ),
        ],
    )
    september, october, november = (cycle_named(m, 21) for m in ("2026-09", "2026-10", "2026-11"))
    assert _upgraded(engine, september) == {}
    assert _upgraded(engine, october) == {"A": 1, "B": 2}
    assert _upgraded(engine, november) == {"B": 1, "C": 1}


def test_upgrades_over_month_ends_in_calendar_month_cycles(engine):
    """With calendar months, a complaint at 00:30 on the 1st (16:30 UTC on the last day of the
    month before) belongs to the new month, over 31 January and over 28 February alike."""
    config = AccountabilityConfig(cycle_start_day=1)
    ingest(
        engine,
        [
            complaint(1, local(2027, 1, 31, 23), "hotline", customer_key="a", branch="A"),
            complaint(
                2,
                local(2027, 2, 1, 0) + timedelta(minutes=30),
                "social",
                customer_key="a",
                branch="A",
            ),
            complaint(3, local(2027, 2, 28, 23), "app", customer_key="b", branch="B"),
            complaint(
                4,
                local(2027, 3, 1, 0) + timedelta(minutes=30),
                "regulator",
                customer_key="b",
                branch="B",
            ),
            # a higher channel, but for another product: not an upgrade
            complaint(
                5,
                local(2027, 2, 3),
                "regulator",
                customer_key="a",
                branch="A",
                product_code="HOME-1",
            ),
        ],
    )
    months = {m: _upgraded(engine, cycle_named(m, 1), config) for m in ("2027-01", "2027-02")}
    assert months == {"2027-01": {}, "2027-02": {"A": 1}}
    assert _upgraded(engine, cycle_named("2027-03", 1), config) == {"B": 1}


def test_the_report_finds_the_upgrades_the_rule_finds_on_all_rows(engine):
    """The database narrows the rows down before ``upgraded_ids`` decides: on 50 random days of
    1,000 customers and 5,000 complaints (more than one IN list of keys), it must lose none of
    the upgrades that the rule finds when it sees every row."""
    rng = np.random.default_rng(23)
    channels = sorted(LEVELS)
    start = local(2026, 10, 1, 0)
    rows = []
    for n in range(5_000):
        at = start + timedelta(minutes=int(rng.integers(0, 50 * 24 * 60)))
        rows.append(
            complaint(
                n, at, channels[int(rng.integers(len(channels)))],
                customer_key=f"k{int(rng.integers(1_000))}",
                product_code=f"P{int(rng.integers(1, 5)) // 4}", branch=f"B{n % 3}",
            )
        )  # fmt: skip
    ingest(engine, rows)
    frame = pd.DataFrame(
        [(n, r.customer_key, r.product_code, r.channel, r.received_at, r.branch)
         for n, r in enumerate(rows)],
        columns=["id", "customer_key", "product_code", "channel", "received_at", "branch"],
    )  # fmt: skip
    upgraded = frame[frame["id"].isin(upgraded_ids(frame, LEVELS, WINDOW))]
    cycle = cycle_named("2026-11", 21)
    inside = upgraded[
        (upgraded["received_at"] >= local(2026, 10, 21, 0))
        & (upgraded["received_at"] < local(2026, 11, 21, 0))
    ]
    first = inside.sort_values(["received_at", "id"])  # once per customer, product and channel
    first = first.drop_duplicates(["customer_key", "product_code", "channel"])
    expected = first.groupby("branch").size().to_dict()
    assert inside["customer_key"].nunique() > CHUNK
    assert _upgraded(engine, cycle) == expected


def test_the_pdf_continues_the_table_of_seventy_branches_on_a_second_page(sqlite_engine):
    """A national insurer's branch offices do not fit under the chart: the table goes on."""
    ingest(
        sqlite_engine,
        [complaint(n, local(2026, 12, 1) - timedelta(days=30 * (n % 2)), "hotline",
                   branch=f"第{n % 70:02d}中心支公司") for n in range(280)],
    )  # fmt: skip
    report = build_monthly_report(
        sqlite_engine, CYCLE, CONFIG, local(2026, 12, 21), calendar=CALENDAR
    )
    assert len(report.summary) == 71 and report.summary["prev"].tolist()[-1] == 140
    assert isinstance(report.summary["prev"].tolist()[-1], int)  # 140, not 140.0, in exports
    pdf = to_pdf(report)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 2
    assert len(re.findall(rb"/Type\s*/Page[^s]", to_pdf(build_monthly_report(
        sqlite_engine, Cycle(date(2020, 1, 1), date(2020, 1, 31)), CONFIG, local(2026, 12, 21),
        calendar=CALENDAR)))) == 1  # fmt: skip


def _decide(engine, external_id: str, **values) -> None:
    with Session(engine) as session, session.begin():
        row = session.scalars(select(Complaint).where(Complaint.external_id == external_id)).one()
        for name, value in values.items():
            setattr(row, name, value)


def _expected_overdue(engine, cycle: Cycle, now: datetime, mode) -> dict[str, int]:
    """The deadline rule applied to every stored complaint of the cycle, one by one."""
    since, until = span(cycle, CALENDAR.tz)
    out: dict[str, int] = {}
    with Session(engine) as session:
        for row in session.scalars(select(Complaint)):
            inside = since <= row.received_at < until and row.decided_at is None
            if inside and decision_due(row.received_at, row.extension_level, mode, CALENDAR) < now:
                out[row.branch] = out.get(row.branch, 0) + 1
    return out


@pytest.mark.parametrize("mode", ["calendar", "working"])
def test_a_closed_cycle_from_its_snapshot_gives_the_numbers_counted_live(engine, mode):
    """5,000 random complaints over the cycle, its neighbours and last year's, some extended,
    some decided: the snapshot the
    worker writes gives the same report as counting every complaint, also after a complaint is
    decided or extended once the cycle has closed; a late complaint makes it stale until it is
    written again. Overdue decisions match the deadline rule applied complaint by complaint."""
    rng = np.random.default_rng(17)
    channels = sorted(LEVELS)
    start = local(2026, 10, 1, 0)  # the cycle, the previous one, a quarter a year earlier
    rows = []
    for n in range(5_000):
        offset = int(rng.integers(0, 80 * 24 * 60)) - (365 * 24 * 60 if n % 4 == 0 else 0)
        rows.append(
            complaint(
                n, start + timedelta(minutes=offset), channels[int(rng.integers(len(channels)))],
                customer_key=f"k{int(rng.integers(800))}" if n % 7 else "",
                product_code=f"P{int(rng.integers(3))}", branch=f"B{int(rng.integers(4))}",
            )
        )  # fmt: skip
    ingest(engine, rows)
    with Session(engine) as session, session.begin():
        for row in session.scalars(select(Complaint)):
            row.extension_level = int(rng.choice([0, 0, 0, 1, 2]))
            if rng.random() < 0.4:
                row.decided_at = row.received_at + timedelta(days=int(rng.integers(1, 20)))
    cycle = cycle_named("2026-12", 21)  # 2026-11-21 to 2026-12-20
    closed = local(2026, 12, 21, 3)
    assert freeze_monthly_report(engine, cycle, CONFIG, closed, calendar=CALENDAR)
    assert not freeze_monthly_report(engine, cycle, CONFIG, closed, calendar=CALENDAR)

    def both(now: datetime):
        snap = build_monthly_report(engine, cycle, CONFIG, now, mode, calendar=CALENDAR)
        live = build_monthly_report(
            engine, cycle, CONFIG, now, mode, calendar=CALENDAR, frozen=False
        )
        assert live.frozen_at is None and snap.as_of == live.as_of == now
        pd.testing.assert_frame_equal(snap.summary, live.summary)
        pd.testing.assert_frame_equal(snap.by_channel, live.by_channel)
        overdue = snap.summary[snap.summary["branch"] != TOTAL].set_index("branch")["overdue"]
        assert overdue[overdue > 0].to_dict() == _expected_overdue(engine, cycle, now, mode)
        return snap

    now = local(2026, 12, 28, 12)
    report = both(now)
    assert report.frozen_at == closed
    total = report.summary.set_index("branch").loc[TOTAL]
    assert total["received"] > 1_000 and total["upgraded"] > 0 and total["prev"] > 1_000
    assert total["last_year"] > 200 and 0 < total["overdue"] < total["received"]
    # Decided (and another one extended) after the cycle closed: overdue is counted now.
    since, until = span(cycle, CALENDAR.tz)
    overdue = [
        r
        for r in rows
        if since <= r.received_at < until and decision_due(r.received_at, 0, mode, CALENDAR) < now
    ]
    with Session(engine) as session:
        undecided = set(
            session.scalars(
                select(Complaint.external_id).where(
                    Complaint.decided_at.is_(None), Complaint.extension_level == 0
                )
            )
        )
    first, second = [r for r in overdue if r.external_id in undecided][:2]
    _decide(engine, first.external_id, decided_at=now - timedelta(days=1))
    _decide(engine, second.external_id, extension_level=2)
    after = both(now)
    assert after.frozen_at == closed
    assert int(after.summary.iloc[-1]["overdue"]) == int(total["overdue"]) - 2
    # A complaint of the next cycle on another channel makes one of this cycle multi-channel
    # (either side, within 30 days): that flag is counted now too.
    with Session(engine) as session:
        single = session.scalars(
            select(Complaint)
            .where(
                Complaint.received_at >= local(2026, 12, 15, 0),
                Complaint.received_at < until,
                Complaint.customer_key != "",
                Complaint.is_multichannel.is_(False),
            )
            .order_by(Complaint.id)
        ).first()
    assert single is not None
    other = next(c for c in channels if c != single.channel)
    ingest(engine, [complaint(9_998, local(2026, 12, 22), other, branch=single.branch,
                              customer_key=single.customer_key,
                              product_code=single.product_code)])  # fmt: skip
    multi = both(now)
    assert multi.frozen_at == closed
    assert int(multi.summary.iloc[-1]["multichannel"]) > int(total["multichannel"])
    # A complaint of the cycle stored late: the snapshot no longer matches until written again.
    ingest(engine, [complaint(9_999, local(2026, 12, 1), "regulator", branch="B0")])
    late = both(now)
    assert late.frozen_at is None
    assert int(late.summary.iloc[-1]["received"]) == int(total["received"]) + 1
    assert freeze_monthly_report(engine, cycle, CONFIG, now, calendar=CALENDAR)
    assert both(now).frozen_at == now


def test_an_open_cycle_is_shown_from_a_recent_snapshot_only(sqlite_engine):
    """The open cycle's snapshot stops matching with its next complaint: the page shows it,
    saying when it was counted, while it is at most OPEN_SNAPSHOT_MAX_AGE old and misses at
    most OPEN_SNAPSHOT_MAX_MISSING of the cycle's complaints, then counts live again."""
    _seed(sqlite_engine)
    day = local(2026, 12, 2)
    ingest(sqlite_engine, [complaint(100 + i, day + timedelta(minutes=i), "web", branch="B")
                           for i in range(200)])  # fmt: skip
    built = local(2026, 12, 20, 12)
    assert freeze_monthly_report(sqlite_engine, CYCLE, CONFIG, built, calendar=CALENDAR)

    def report(now: datetime, frozen: bool = True):
        return build_monthly_report(
            sqlite_engine, CYCLE, CONFIG, now, calendar=CALENDAR, frozen=frozen
        )

    def received(report) -> int:
        return int(report.summary.iloc[-1]["received"])

    counted = received(report(built))
    ingest(sqlite_engine, [complaint(50, local(2026, 12, 20, 13), "web", branch="广州分公司")])
    now = built + OPEN_SNAPSHOT_MAX_AGE
    recent, live = report(now), report(now, frozen=False)
    assert recent.frozen_at == built and received(recent) == counted
    assert live.frozen_at is None and received(live) == counted + 1
    older = report(now + timedelta(minutes=1))
    assert older.frozen_at is None and received(older) == counted + 1
    # a catch-up after an outage: more than 1 % of the cycle came in after the snapshot
    late = [complaint(60 + i, local(2026, 12, 20, 11), "web") for i in range(int(counted * 0.01))]
    ingest(sqlite_engine, late)
    behind = report(built + timedelta(minutes=5))
    assert behind.frozen_at is None and received(behind) == counted + 1 + len(late)
    # once closed, only a snapshot that matches what is stored counts
    closed = report(local(2026, 12, 21, 10))
    assert closed.frozen_at is None and received(closed) == received(behind)
