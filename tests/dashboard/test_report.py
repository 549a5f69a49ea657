"""The weekly report: periods, totals, Excel that opens, charts that render (Monday job: see
test_weekly_job.py)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from dashboard import cjk_font
from dashboard.cjk_font import cjk_family
from dashboard.i18n import figure, sheet_value
from dashboard.queries import AlertStats
from dashboard.report import (
    alert_summary,
    build_weekly_report,
    cell_text,
    period_starts,
    summary_rows,
    summary_text,
    to_excel,
    to_image,
)
from dashboard.timeutil import day_start
from domain.calendar import HolidayCalendar
from tests.dashboard.seed import complaint, ingest, seed_burst

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

WEEK = date(2026, 11, 16)  # a Monday


def _seed(engine) -> None:
    this = day_start(WEEK, CALENDAR.tz) + timedelta(hours=3)
    rows = [complaint(i, this + timedelta(hours=i), "hotline") for i in range(6)]
    rows += [
        complaint(100 + i, this - timedelta(days=7) + timedelta(hours=i), "web") for i in range(3)
    ]
    rows += [complaint(200, this - timedelta(days=364), "social", category="销售")]
    ingest(engine, rows)


def test_period_starts_align_on_mondays():
    starts = period_starts(WEEK)
    assert starts == {"this": WEEK, "prev": date(2026, 11, 9), "last_year": date(2025, 11, 17)}
    assert all(d.weekday() == 0 for d in starts.values())
    with pytest.raises(ValueError, match="Monday"):
        period_starts(date(2026, 11, 18))


def test_report_compares_three_periods(engine):
    _seed(engine)
    seed_burst(engine, day_start(WEEK, CALENDAR.tz) + timedelta(days=2, hours=5))
    report = build_weekly_report(engine, WEEK, CALENDAR)
    assert report.totals == {"this": 6 + 8, "prev": 3, "last_year": 1}
    channels = report.by_dimension["channel"].set_index("value")
    assert channels.loc["hotline", "this"] == 6 + 4
    assert channels.loc["web", "prev"] == 3
    assert channels.loc["social", "last_year"] == 1
    assert report.alerts["this"].raised == 1
    assert report.top_products["product_name"][0] == "守护百万医疗险"
    text = summary_text(report, "http://radar.example")
    assert "投诉总量 14 件" in text and "http://radar.example/weekly" in text


def test_excel_opens_with_openpyxl(engine):
    _seed(engine)
    book = load_workbook(io.BytesIO(to_excel(build_weekly_report(engine, WEEK, CALENDAR))))
    assert book.sheetnames[:2] == ["汇总", "按类别"]
    summary = book["汇总"]
    assert summary["A4"].value == "投诉总量"
    assert [summary["B4"].value, summary["C4"].value, summary["D4"].value] == [
        6,
        3,
        1,
    ]  # numbers, not text


def test_pdf_and_png_render_offline(engine):
    _seed(engine)
    report = build_weekly_report(engine, WEEK, CALENDAR)
    assert to_image(report, "pdf").startswith(b"%PDF")
    assert to_image(report, "png").startswith(b"\x89PNG")
    with pytest.raises(ValueError):
        to_image(report, "gif")


def test_the_chart_font_has_chinese_glyphs():
    # needs a CJK font on the machine: ./run.sh and ./test.sh install fonts-noto-cjk
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    family = cjk_family()
    assert family, "no CJK font: install fonts-noto-cjk"
    path = findfont(FontProperties(family=[family]), fallback_to_default=False)
    font = FT2Font(path, face_index=getattr(path, "face_index", 0))
    assert all(font.get_char_index(ord(ch)) != 0 for ch in "投诉雷达广州分公司安心交强险")


def test_without_a_cjk_font_the_log_says_how_to_install_one(monkeypatch, caplog):
    monkeypatch.setattr(cjk_font, "FAMILIES", ("No Such CJK Font",))
    monkeypatch.setattr(cjk_font, "FONT_FILES", ())
    monkeypatch.setattr(cjk_font, "_system_files", list)
    cjk_family.cache_clear()
    try:
        assert cjk_font.sans_serif() == ["DejaVu Sans"]  # the report still renders
        assert cjk_font.sans_serif() == ["DejaVu Sans"]
    finally:
        cjk_family.cache_clear()
    warnings = [r.getMessage() for r in caplog.records if r.name == "radar.fonts"]
    assert len(warnings) == 1 and "fonts-noto-cjk" in warnings[0]  # once, with the fix


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_and_png_draw_chinese_names_without_missing_glyphs(engine, recwarn, lang):
    # product names stay Chinese on the English page too; a missing glyph is an empty box
    _seed(engine)
    report = build_weekly_report(engine, WEEK, CALENDAR)
    to_image(report, "pdf", lang)
    to_image(report, "png", lang)
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert not missing, missing[:3]


def test_exports_follow_the_language_and_say_no_data(engine):
    _seed(engine)
    report = build_weekly_report(engine, WEEK, CALENDAR)
    book = load_workbook(io.BytesIO(to_excel(report, "en")))
    assert book.sheetnames == [
        "Summary", "By category", "By channel", "By product line", "By region",
        "Top products this week",
    ]  # fmt: skip
    summary = book["Summary"]
    assert summary["A1"].value == "Complaint Radar weekly report 2026-11-16 to 2026-11-22"
    assert summary["A4"].value == "Total complaints" and summary["B4"].value == 6
    channels = [row[0] for row in book["By channel"].iter_rows(min_row=2, values_only=True)]
    assert set(channels) == {"Hotline", "Web form", "Social media"}  # names, not codes
    categories = [row[0] for row in book["By category"].iter_rows(min_row=2, values_only=True)]
    assert set(categories) == {"Claims", "Sales"}  # the vocabulary in English
    top = list(book["Top products this week"].iter_rows(min_row=2, values_only=True))
    assert top == [("CAR-001", "安心交强险", "Motor", 6)]  # the product's name as it came
    pdf = to_image(report, "pdf", "en")
    assert pdf.startswith(b"%PDF")
    quiet = build_weekly_report(
        engine, WEEK + timedelta(days=7 * 60), CALENDAR
    )  # no last year, nothing
    rows = summary_rows(quiet)
    assert all(value is None for row in rows for value in row[1:])
    assert cell_text(None) == "无数据" and cell_text(1234) == "1,234"
    assert "Alerts raised this week: 0" in alert_summary(quiet, "en")


def test_no_data_reads_without_a_unit_and_zero_with_it():
    assert figure(None) == "无数据" and figure(float("nan"), "en") == "No data"
    assert figure(None, "zh", ".0f", "n_minutes") == "无数据"  # never "无数据 分钟"
    assert figure(0.0, "zh", ".0f", "n_minutes") == "0 分钟"
    assert figure(3.4, "en", ".0f", "n_minutes") == "3 min"
    assert figure(0) == "0" and figure(1234) == "1,234"
    assert sheet_value(None, "en") == "No data" and sheet_value(0) == 0


def test_the_pdf_line_says_no_data_without_minutes_and_a_real_zero_with_them(engine):
    _seed(engine)
    report = build_weekly_report(engine, WEEK, CALENDAR)
    none_acked = replace(report, alerts={**report.alerts, "this": AlertStats(2, {2: 2}, 0, None)})
    assert alert_summary(none_acked).endswith("确认用时中位数 无数据")
    assert alert_summary(none_acked, "en").endswith("median time to acknowledge No data")
    at_once = replace(report, alerts={**report.alerts, "this": AlertStats(1, {2: 1}, 1, 0.0)})
    assert alert_summary(at_once).endswith("确认用时中位数 0 分钟")
    assert alert_summary(at_once, "en").endswith("median time to acknowledge 0 min")


def test_the_workbook_says_no_data_where_the_page_does(engine):
    _seed(engine)
    quiet = build_weekly_report(engine, WEEK + timedelta(days=7), CALENDAR)  # only last week
    page = [[cell_text(v, "en") for v in row[1:]] for row in summary_rows(quiet, "en")]
    book = load_workbook(io.BytesIO(to_excel(quiet, "en")))
    sheet = [
        ["No data" if v == "No data" else cell_text(v, "en") for v in row[1:4]]
        for row in book["Summary"].iter_rows(min_row=4, max_row=8, values_only=True)
    ]
    assert sheet == page
    assert page[0] == ["No data", "6", "No data"]  # this week and last year hold nothing
    book = load_workbook(io.BytesIO(to_excel(build_weekly_report(engine, WEEK, CALENDAR), "en")))
    change = {row[0]: row[4] for row in book["By channel"].iter_rows(min_row=2, values_only=True)}
    assert change["Hotline"] == "No data"  # none the week before: no change, not an empty cell
    assert change["Web form"] == -1  # a real fall to 0
