"""Weekly PDF/PNG with labels matplotlib would parse (issue 19 item 8).

A category ``$\\x$`` made mathtext raise, and the page showed the traceback with server paths.
Labels are plain text now; a failure shows an error id, its traceback goes to the log only.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from config.settings import get_settings
from dashboard.report import build_weekly_report, to_image
from dashboard.settings import dashboard_settings
from dashboard.timeutil import day_start
from domain.calendar import HolidayCalendar
from tests.dashboard.seed import complaint, ingest

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

WEEK = date(2026, 11, 16)
LABELS = ["$\\x$", "$$\\frac{1}{0}$$", "a_{b}^c $", "\\$100 $\\alpha", "$x^{$"]


def _seed(engine, at) -> None:
    ingest(engine, [
        complaint(i, at + timedelta(hours=i), "hotline", category=label, region=label[:32],
                  product_code=label, product_name=label)
        for i, label in enumerate(LABELS)
    ])  # fmt: skip


@pytest.mark.parametrize("fmt", ["pdf", "png"])
def test_mathtext_labels_render_as_plain_text(engine, fmt):
    _seed(engine, day_start(WEEK, CALENDAR.tz) + timedelta(hours=2))
    data = to_image(build_weekly_report(engine, WEEK, CALENDAR), fmt)
    assert data.startswith(b"%PDF" if fmt == "pdf" else b"\x89PNG")


def test_weekly_page_with_hostile_labels_offers_the_pdf(sqlite_engine, monkeypatch):
    _seed(sqlite_engine, day_start(WEEK, CALENDAR.tz) + timedelta(hours=2))
    monkeypatch.setenv(
        "RADAR_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("RADAR_AUTH", "off")
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    try:
        at = AppTest.from_string(
            "from dashboard.pages import weekly\nweekly.render()\n", default_timeout=120
        )
        at.run()
        at.date_input(key="week").set_value(WEEK).run()
        at.toggle(key="make_pdf").set_value(True).run()
    finally:
        get_settings.cache_clear()
        dashboard_settings.cache_clear()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error


def test_a_failure_shows_an_error_id_and_logs_the_traceback(caplog):
    script = (
        "from dashboard.ui import show_failure\n"
        "try:\n"
        "    open('/nonexistent/secret/path')\n"
        "except OSError as exc:\n"
        "    show_failure('weekly pdf', exc)\n"
    )
    with caplog.at_level(logging.ERROR, logger="radar.dashboard"):
        at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception
    [shown] = [e.value for e in at.error]
    assert "/nonexistent" not in shown and "Traceback" not in shown
    error_id = shown.rsplit("：", 1)[1]
    assert len(error_id) == 8
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info and "secret" in str(record.exc_info[1])
