"""One cached engine per database URL and cached query results (bounded, short-lived).

Query results are keyed by the database URL, the query name and its arguments, so tests and
deployments pointing at different databases never see each other's results.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from config.loader import ConfigIssue, RadarConfig, check_config
from config.rules import AccountabilityConfig, CalendarConfig
from config.settings import get_settings
from dashboard import queries
from dashboard.deadlines import DayMode
from dashboard.monthly import Cycle, MonthlyReport
from dashboard.monthly_report import build_monthly_report
from dashboard.report import WeeklyReport, build_weekly_report
from domain.calendar import HolidayCalendar
from storage.db import make_engine, make_session_factory

MAX_ENTRIES = 128


def database_url() -> str:
    return get_settings().database_url


@st.cache_resource(show_spinner=False)
def read_engine(url: str) -> Engine:
    """The dashboard's reader: deferred transactions, which never block the worker under WAL."""
    return make_engine(url, read_only=True)


@st.cache_resource(show_spinner=False)
def write_engine(url: str) -> Engine:
    """Only alert actions (through alerts/state/actions.py) write, on their own engine."""
    return make_engine(url)


def write_factory():
    return make_session_factory(write_engine(database_url()))


@st.cache_data(ttl=4, max_entries=MAX_ENTRIES, show_spinner=False)
def _live(url: str, name: str, args: tuple) -> Any:
    return getattr(queries, name)(read_engine(url), *args)


@st.cache_data(ttl=60, max_entries=MAX_ENTRIES, show_spinner=False)
def _slow(url: str, name: str, args: tuple) -> Any:
    return getattr(queries, name)(read_engine(url), *args)


def database_unavailable(exc: Exception) -> NoReturn:
    """A clear notice instead of a stack trace; the page (or its live fragment) tries again on
    its next run. Driver messages name host and port, never the password."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    st.error(
        f"数据库暂时不可用，稍后自动重试 · Database unavailable, retrying automatically ({reason})"
    )
    st.stop()


def live(name: str, *args: Any) -> Any:
    """A query for the wall screen and the console (a few seconds old at most)."""
    try:
        return _live(database_url(), name, args)
    except (OperationalError, InterfaceError) as exc:
        database_unavailable(exc)


def slow(name: str, *args: Any) -> Any:
    """A query for reports and lists that may be a minute old."""
    try:
        return _slow(database_url(), name, args)
    except (OperationalError, InterfaceError) as exc:
        database_unavailable(exc)


@st.cache_resource(ttl=300, max_entries=4, show_spinner=False)
def holiday_calendar(calendar: CalendarConfig) -> HolidayCalendar:
    """One calendar per configured ``calendar`` section, so its day types stay cached."""
    return HolidayCalendar(calendar)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def _weekly(url: str, week_start: date, calendar: CalendarConfig) -> WeeklyReport:
    return build_weekly_report(read_engine(url), week_start, holiday_calendar(calendar))


def weekly_report(week_start: date, calendar: CalendarConfig) -> WeeklyReport:
    try:
        return _weekly(database_url(), week_start, calendar)
    except (OperationalError, InterfaceError) as exc:
        database_unavailable(exc)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def _monthly(
    url: str,
    cycle: Cycle,
    config: AccountabilityConfig,
    now: datetime,
    mode: DayMode,
    calendar: CalendarConfig,
) -> MonthlyReport:
    engine, days = read_engine(url), holiday_calendar(calendar)
    return build_monthly_report(engine, cycle, config, now, mode, calendar=days)


def monthly_report(
    cycle: Cycle,
    config: AccountabilityConfig,
    now: datetime,
    mode: DayMode,
    calendar: CalendarConfig,
) -> MonthlyReport:
    """``now`` (for overdue deadlines) should be floored to a few minutes so reruns share it."""
    try:
        return _monthly(database_url(), cycle, config, now, mode, calendar)
    except (OperationalError, InterfaceError) as exc:
        database_unavailable(exc)


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _why(url: str, alert_id: int):
    from sqlalchemy.orm import Session

    from alerts.detect.why_data import why_of

    with Session(read_engine(url)) as session:
        return why_of(session, alert_id)


def why(alert_id: int):
    """(Why, earliest complaints) of an alert, cached per alert: word segmentation is the
    slowest thing the console does."""
    try:
        return _why(database_url(), alert_id)
    except (OperationalError, InterfaceError) as exc:
        database_unavailable(exc)


@st.cache_data(ttl=30, max_entries=4, show_spinner=False)
def config_check(config_dir: str) -> tuple[RadarConfig | None, list[ConfigIssue]]:
    return check_config(Path(config_dir))


@st.cache_data(ttl=300, max_entries=4, show_spinner=False)
def roster_check(config_dir: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the roster over the next 30 days, every configured holiday period
    and the whole next Spring Festival: what ``check-config`` prints, for the wall and settings."""
    from alerts.notify.commands import roster_findings

    config, _issues = config_check(config_dir)
    if config is None:
        return [], []
    return roster_findings(config, datetime.now(UTC))


def config_dir() -> str:
    return str(get_settings().config_dir)


def after_write() -> None:
    """Drop cached reads so the page shows the change at once."""
    _live.clear()
    _slow.clear()
    _weekly.clear()
    _monthly.clear()
