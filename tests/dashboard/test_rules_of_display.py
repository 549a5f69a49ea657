"""Pure helpers: regulatory deadlines, source health, time formatting, i18n and sign-in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.rules import CalendarConfig
from dashboard import auth
from dashboard.deadlines import add_days, decision_due, due_status
from dashboard.health import lag_minutes, source_status, worker_alive
from dashboard.i18n import STRINGS, channel_name, t
from dashboard.timeutil import age_text, change_pct, local_midnight, previous_full_week
from domain.calendar import WORKDAY, HolidayCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays
# The 2027 Spring Festival, which chinesecalendar does not know: configured in rules.yaml.
CALENDAR_2027 = HolidayCalendar(
    CalendarConfig.model_validate(
        {"holidays": [{"start": "2027-02-05", "end": "2027-02-12", "name": "春节"}]}
    )
)


def test_calendar_deadline_is_end_of_day_15_30_or_60_days_later():
    received = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 March in Shanghai
    due = decision_due(received, 0, "calendar", CALENDAR)
    assert due == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # midnight after 16 March (Shanghai)
    assert decision_due(received, 1, "calendar", CALENDAR) - due == timedelta(days=15)
    assert decision_due(received, 2, "calendar", CALENDAR) - due == timedelta(days=45)
    with pytest.raises(ValueError):
        decision_due(received, 3, "calendar", CALENDAR)


def test_working_days_follow_the_chinese_calendar_with_tiaoxiu():
    assert CALENDAR.day_type(date(2026, 2, 14)) == WORKDAY  # a 调休 Saturday before Spring Festival
    assert CALENDAR.day_type(date(2026, 2, 17)) != WORKDAY  # Spring Festival
    # From Friday 13 Feb 2026: Sat 14 is a make-up workday, then the holiday runs to 23 Feb.
    assert add_days(date(2026, 2, 13), 1, "working", CALENDAR) == date(2026, 2, 14)
    assert add_days(date(2026, 2, 13), 2, "working", CALENDAR) == date(2026, 2, 24)
    assert add_days(date(2026, 2, 13), 2, "calendar", CALENDAR) == date(2026, 2, 15)


def test_working_days_skip_a_configured_holiday_the_library_does_not_know():
    # Thursday 4 Feb 2027, then the configured Spring Festival from Friday 5 to Friday 12.
    received = datetime(2027, 2, 4, 2, 0, tzinfo=UTC)
    assert add_days(date(2027, 2, 4), 1, "working", CALENDAR) == date(2027, 2, 5)
    assert add_days(date(2027, 2, 4), 1, "working", CALENDAR_2027) == date(2027, 2, 15)
    due = decision_due(received, 0, "working", CALENDAR_2027)
    assert due - decision_due(received, 0, "working", CALENDAR) == timedelta(days=8)


def test_a_configured_time_zone_moves_the_day_a_deadline_counts_from():
    berlin = HolidayCalendar(CalendarConfig(timezone="Europe/Berlin"))
    received = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 2 March in Shanghai, 1 March in Berlin
    assert decision_due(received, 0, "calendar", CALENDAR) == datetime(
        2026, 3, 17, 16, 0, tzinfo=UTC
    )
    assert decision_due(received, 0, "calendar", berlin) == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)


def test_due_status():
    due = NOW + timedelta(hours=30)
    assert due_status(due, None, NOW) == "due_soon"
    assert due_status(due, None, NOW + timedelta(hours=31)) == "overdue"
    assert due_status(due, None, NOW - timedelta(days=3)) == "ok"
    assert due_status(due, NOW, NOW + timedelta(days=9)) == "done"


def test_source_status_and_lag():
    stale = timedelta(minutes=10)
    assert source_status(None, 0, NOW, stale) == "never"
    assert source_status(NOW - timedelta(minutes=11), 0, NOW, stale) == "stale"
    assert source_status(NOW - timedelta(minutes=1), 2, NOW, stale) == "failing"
    assert source_status(NOW - timedelta(minutes=1), 0, NOW, stale) == "ok"
    assert lag_minutes(NOW - timedelta(minutes=90), NOW) == 90.0
    assert lag_minutes(None, NOW) is None
    assert worker_alive(NOW - timedelta(seconds=30), NOW, timedelta(minutes=2))
    assert not worker_alive(None, NOW, timedelta(minutes=2))


def test_time_helpers():
    assert local_midnight(NOW, SHANGHAI) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert previous_full_week(NOW, SHANGHAI) == date(2026, 11, 16)
    # 04:00 UTC on Monday 23 Nov is still Sunday 22 Nov in New York: a week earlier
    new_york = HolidayCalendar(CalendarConfig(timezone="America/New_York")).tz
    assert local_midnight(NOW, new_york) == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    assert previous_full_week(NOW, new_york) == date(2026, 11, 9)
    assert age_text(timedelta(minutes=125), "zh") == "2小时05分"
    assert age_text(timedelta(days=1, hours=2), "en") == "1d2h"
    assert change_pct(12, 10) == pytest.approx(20.0)
    assert change_pct(5, 0) is None


def test_i18n_has_both_languages_for_every_key():
    assert all(zh and en for zh, en in STRINGS.values())
    assert t("today") == "今日投诉" and t("today", "en") == "Complaints today"
    assert t("no-such-key") == "no-such-key"
    assert channel_name("hotline") == "热线" and channel_name("fax") == "fax"


def test_password_sign_in_with_bcrypt(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text(
        "users:\n"
        f"  - {{username: wang, name: 王经理, role: duty_manager, password_hash: '{auth.hash_password('s3cret')}'}}\n"
        f"  - {{username: boss, role: executive, password_hash: '{auth.hash_password('x')}', email: Boss@Example.com}}\n",
        encoding="utf-8",
    )
    users = auth.load_users(path)
    user = auth.verify_password(users, "wang", "s3cret")
    assert user == auth.User("wang", "王经理", "duty_manager")
    assert user.can_act and user.can_read_texts and "settings" in user.pages
    assert auth.verify_password(users, "wang", "wrong") is None
    assert auth.verify_password(users, "nobody", "s3cret") is None
    boss = auth.user_for_email(users, "boss@example.com")
    assert boss is not None and not boss.can_act and not boss.can_read_texts
    assert boss.pages == ("wall", "weekly", "monthly")
    assert auth.load_users(tmp_path / "missing.yaml").users == []
    assert auth.anonymous("  李娜 ").username == "李娜"
