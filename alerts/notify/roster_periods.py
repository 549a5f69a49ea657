"""Which periods a roster check must cover: the next 30 days, every configured holiday period
ahead and the whole next Spring Festival, whenever they are.

A hole in the Spring Festival nights written in November must be reported in December, not on
the 30th day before it. The Spring Festival dates come from the lunar calendar (a fixed table,
checked against chinesecalendar where it has data), so the check works before the State Council
publishes the year's holidays; the configured ``calendar.holidays`` add and extend periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.rules import CalendarConfig

GAP_HORIZON = timedelta(days=30)
# 初一 (the first day of the lunar year); the holiday runs from 除夕 (the day before) to 初七.
LUNAR_NEW_YEAR = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
    2036: date(2036, 1, 28),
    2037: date(2037, 2, 15),
    2038: date(2038, 2, 4),
    2039: date(2039, 1, 24),
    2040: date(2040, 2, 12),
}


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime
    end: datetime  # exclusive


def spring_festival(year: int) -> tuple[date, date] | None:
    """除夕 … 初七 of the lunar year starting in ``year`` (None beyond the table)."""
    first = LUNAR_NEW_YEAR.get(year)
    if first is None:
        return None
    return first - timedelta(days=1), first + timedelta(days=6)


def _span(name: str, first: date, last: date, tz: ZoneInfo) -> Period:
    """From the first day's midnight to noon after the last day: the last night shift of a
    holiday runs into the next morning and belongs to the holiday."""
    start = datetime.combine(first, time(0), tz)
    return Period(name, start, datetime.combine(last + timedelta(days=1), time(12), tz))


def check_periods(calendar: CalendarConfig, now: datetime) -> list[Period]:
    """The next 30 days, each configured holiday not yet over, and the next Spring Festival
    (stretched over a configured 春节 entry that overlaps it); periods may overlap."""
    tz = ZoneInfo(calendar.timezone)
    today = now.astimezone(tz).date()
    periods = [Period("未来30天", now, now + GAP_HORIZON)]
    for entry in calendar.holidays:
        last = entry.end or entry.start
        if entry.kind == "holiday" and last >= today:
            periods.append(_span(entry.name or "节假日", entry.start, last, tz))
    for year in (today.year, today.year + 1):
        festival = spring_festival(year)
        if festival is None or festival[1] < today:
            continue
        first, last = festival
        for entry in calendar.holidays:
            end = entry.end or entry.start
            if entry.kind == "holiday" and entry.start <= last and end >= first:
                first, last = min(first, entry.start), max(last, end)
        periods.append(_span(f"{year} 春节", first, last, tz))
        break
    return [Period(p.name, max(p.start, now), p.end) for p in periods if p.end > now]


def merged(periods: list[Period]) -> list[tuple[datetime, datetime]]:
    """The union of the periods as disjoint spans, in time order (each gap is found once)."""
    spans: list[tuple[datetime, datetime]] = []
    for period in sorted(periods, key=lambda p: p.start):
        if spans and period.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], period.end))
        else:
            spans.append((period.start, period.end))
    return spans


def names_of(periods: list[Period], start: datetime, end: datetime) -> list[str]:
    """The named periods (holidays) a gap falls in, for the message."""
    return [p.name for p in periods[1:] if p.start < end and start < p.end]
