"""Mute windows read the product's one holiday calendar (rules.yaml ``calendar.holidays`` over
chinesecalendar), on both databases: 2027 Spring Festival weekdays are holidays, 调休 Saturdays
are workdays, exactly as detection sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.routing import is_holiday, muted_by
from domain.calendar import HolidayCalendar
from storage.db import session_scope
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_dispatch import Recorder

CALENDAR_2027 = {"calendar": {"holidays": [
    {"start": "2027-02-05", "end": "2027-02-12", "name": "春节"},
    {"start": "2027-02-13", "kind": "workday", "name": "春节调休"},
    {"start": "2027-02-14", "kind": "workday", "name": "春节调休"},
]}}  # fmt: skip
HOLIDAY_NIGHTS = {"group_wait_seconds": 0, "mute_windows": [
    {"name": "minor-holiday-nights", "match": {"severity": 4}, "days": ["holiday"],
     "from_time": "22:00", "to_time": "08:00"}]}  # fmt: skip


@pytest.mark.parametrize(
    ("local_night", "muted"),
    [
        ("2027-02-08T23:00", True),  # a Monday of the Spring Festival holiday
        ("2027-02-13T23:00", False),  # a Saturday 调休 workday
        ("2027-02-17T23:00", False),  # an ordinary Wednesday
    ],
)
def test_holiday_nights_follow_the_configured_2027_calendar(factory, clock, local_night, muted):
    clock.now = datetime.fromisoformat(local_night + "+08:00").astimezone(UTC)
    config = make_config(routes=HOLIDAY_NIGHTS, rules=CALENDAR_2027)
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now, severity=4)
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, {"log": recorder}, config, clock.now)
    assert len(recorder.sent) == (0 if muted else 1)


def test_mute_days_and_detection_days_are_the_same_days():
    calendar = HolidayCalendar(make_config(rules=CALENDAR_2027).rules.calendar)
    day_types = {"2027-02-08": True, "2027-02-13": False, "2027-02-14": False, "2027-02-20": True}
    for day, holiday in day_types.items():
        assert is_holiday(datetime.fromisoformat(day).date(), calendar) is holiday


def test_mute_windows_keep_the_configured_time_zone_hours():
    """22:00–08:00 is London's night when rules.yaml says Europe/London, not Shanghai's."""
    windows = make_config(routes=HOLIDAY_NIGHTS).routes.mute_windows
    london = HolidayCalendar(
        make_config(rules={"calendar": {"timezone": "Europe/London"}}).rules.calendar
    )
    shanghai = HolidayCalendar()
    sunday_night = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # Monday 08:30 in Shanghai
    labels = {"severity": "4"}
    assert muted_by(windows, labels, sunday_night, london) == "minor-holiday-nights"
    assert muted_by(windows, labels, sunday_night, shanghai) is None
