"""Time helpers: stored in UTC; shown, and cut into days and weeks, in ``tz``: the configured
``rules.yaml`` ``calendar.timezone`` (``HolidayCalendar.tz``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def local_midnight(moment: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of midnight on the local day holding ``moment``."""
    return day_start(moment.astimezone(tz).date(), tz)


def day_start(day: date, tz: tzinfo) -> datetime:
    """Midnight of a local calendar day, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def previous_full_week(now: datetime, tz: tzinfo) -> date:
    """The Monday of the last complete local week, which a Monday report covers."""
    return monday_of(now.astimezone(tz).date()) - timedelta(days=7)


def fmt_local(moment: datetime | None, tz: tzinfo, pattern: str = "%m-%d %H:%M") -> str:
    if moment is None or moment != moment:  # None, or pandas NaT (never equal to itself)
        return "—"
    return moment.astimezone(tz).strftime(pattern)


def age_text(delta: timedelta, lang: str = "zh") -> str:
    """'2小时05分' / '2h05m': short enough for a wall screen cell."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        if days:
            return f"{days}天{hours}小时"
        return f"{hours}小时{mins:02d}分" if hours else f"{mins}分钟"
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"


def change_pct(current: int, previous: int) -> float | None:
    """Relative change; None when there is nothing to compare against."""
    if previous <= 0:
        return None
    return (current - previous) / previous * 100.0
