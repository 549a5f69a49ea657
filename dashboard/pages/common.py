"""Pieces several pages share: the clock, the loaded configuration, source health rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pandas as pd

from config.loader import RadarConfig
from config.rules import CalendarConfig
from dashboard import cache
from dashboard.health import lag_minutes, source_status
from dashboard.settings import dashboard_settings
from domain.calendar import HolidayCalendar


def now_utc(step_seconds: int = 1) -> datetime:
    """Now, floored to ``step_seconds`` so cached queries are shared within one refresh."""
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(seconds=now.timestamp() % step_seconds)


def loaded_config() -> RadarConfig | None:
    config, _issues = cache.config_check(cache.config_dir())
    return config


def calendar_config() -> CalendarConfig:
    """``rules.yaml`` ``calendar``: the local time zone and the holidays."""
    config = loaded_config()
    return config.rules.calendar if config is not None else CalendarConfig()


def holiday_calendar() -> HolidayCalendar:
    return cache.holiday_calendar(calendar_config())


def source_rows(states: pd.DataFrame, config: RadarConfig | None, now: datetime) -> pd.DataFrame:
    """One row per source (configured or seen in the database) with its status and lag."""
    intervals = {}
    if config is not None:
        intervals = {s.name: s.interval_seconds for s in config.sources.sources if s.enabled}
    base = timedelta(minutes=dashboard_settings().stale_source_minutes)
    rows = []
    known = set()
    for row in cast("Iterable[Any]", states.itertuples(index=False)):
        known.add(row.name)
        stale_after = max(base, timedelta(seconds=3 * intervals.get(row.name, 60)))
        rows.append(
            {
                "name": row.name,
                "kind": row.kind,
                "status": source_status(
                    row.last_success_at, int(row.consecutive_failures), now, stale_after
                ),
                "last_success_at": row.last_success_at,
                "lag_minutes": lag_minutes(row.last_received_at, now),
                "consecutive_failures": int(row.consecutive_failures),
                "records_last_run": int(row.records_last_run),
                "total_records": int(row.total_records),
                "last_error": row.last_error or "",
                "note": row.note or "",
            }
        )
    for name in intervals:
        if name not in known:
            rows.append(
                {
                    "name": name,
                    "kind": "",
                    "status": "never",
                    "last_success_at": None,
                    "lag_minutes": None,
                    "consecutive_failures": 0,
                    "records_last_run": 0,
                    "total_records": 0,
                    "last_error": "",
                    "note": "",
                }
            )
    return pd.DataFrame(rows)


def channel_rows(now: datetime) -> pd.DataFrame:
    """Every notification channel tried in the last 24 hours with its health (minute-cached key)."""
    since = now.replace(second=0, microsecond=0) - timedelta(hours=24)
    return cache.live("channel_health", since)


def failing_channels(now: datetime) -> pd.DataFrame:
    """Channels whose latest attempt did not go out (see dashboard.channel_health)."""
    rows = channel_rows(now)
    return rows[rows["status"] == "failing"] if not rows.empty else rows
