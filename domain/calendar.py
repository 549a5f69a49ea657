"""Day types for expected counts: workday, rest day (weekend) or public holiday, in local time.

chinesecalendar knows the State Council's holidays and 调休 make-up workdays for the years it
ships; ``rules.yaml`` ``calendar.holidays`` overrides it and covers later years (e.g. the 2027
Spring Festival, announced each November). Without either, Saturday and Sunday are rest days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar

DEFAULT_TIMEZONE = "Asia/Shanghai"


class HolidayEntry(Protocol):
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date | None: ...
    @property
    def kind(self) -> str: ...


class CalendarSettings(Protocol):
    """What ``rules.yaml`` ``calendar`` holds (``config.rules.CalendarConfig``)."""

    @property
    def timezone(self) -> str: ...
    @property
    def holidays(self) -> Sequence[HolidayEntry]: ...


def zone_name(tz: tzinfo) -> str:
    """How a message names local time: 北京时间 for Asia/Shanghai, otherwise the zone's name."""
    key = getattr(tz, "key", None) or str(tz)
    return "北京时间" if key == DEFAULT_TIMEZONE else key


WORKDAY, RESTDAY, HOLIDAY = 0, 1, 2
DAY_TYPE_NAMES = {WORKDAY: "workday", RESTDAY: "restday", HOLIDAY: "holiday"}


class HolidayCalendar:
    """Classifies local dates; configured entries win over the library, the library over weekends."""

    def __init__(self, config: CalendarSettings | None = None):
        self.tz = ZoneInfo(config.timezone if config else DEFAULT_TIMEZONE)
        self.configured: dict[date, int] = {}
        for entry in config.holidays if config else ():
            day, last = entry.start, entry.end or entry.start
            while day <= last:
                self.configured[day] = HOLIDAY if entry.kind == "holiday" else WORKDAY
                day += timedelta(days=1)
        self.day_type = lru_cache(maxsize=4096)(self._day_type)

    def _day_type(self, day: date) -> int:
        if day in self.configured:
            return self.configured[day]
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:  # a year the library has no data for
            return RESTDAY if day.weekday() >= 5 else WORKDAY
        if not on_holiday:
            return WORKDAY  # includes 调休 weekend workdays
        return HOLIDAY if name else RESTDAY

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def type_of(self, moment: datetime) -> int:
        """Day type of the local date of ``moment``."""
        return self.day_type(self.local(moment).date())

    def block_type(self, start: datetime) -> int:
        """Day type of the 24 hours from ``start``: a local midnight or, counted back in whole
        days across a change to or from daylight saving, an hour off one (its middle's date)."""
        return self.type_of(start + timedelta(hours=12))
