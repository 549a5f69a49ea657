"""Who is on call at a given moment, from roster.yaml (local times in ``tz``, the configured
``rules.yaml`` ``calendar.timezone``).

Precedence: an override beats every shift; among shifts, later ones in the file beat earlier ones
(so a holiday roster written below the normal one replaces it for its dates).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from config.models import Person, RosterFile, Shift
from config.roster import ROLES, Role


def _shift_day(shift: Shift, local: datetime) -> date | None:
    """The day whose shift covers ``local`` (yesterday's for the small hours of an overnight shift)."""
    day, clock = local.date(), local.time()
    if shift.to_time > shift.from_time:
        return day if shift.from_time <= clock < shift.to_time else None
    # Overnight (or all day when from == to): today's part from from_time, yesterday's until to_time.
    if clock >= shift.from_time:
        return day
    if clock < shift.to_time:
        return day - timedelta(days=1)
    return None


def _in_dates(shift: Shift, day: date) -> bool:
    return shift.start <= day and (shift.end is None or day <= shift.end)


def _person_of(roster: RosterFile, shift: Shift, day: date) -> str:
    """The person on a shift on one of its days; a rotation advances one person per day."""
    if shift.who:
        return shift.who
    people = roster.members(shift.rotate) if isinstance(shift.rotate, str) else shift.rotate
    assert people is not None  # a shift names ``who`` or ``rotate``
    return people[(day - shift.start).days % len(people)]


def on_call(roster: RosterFile, at: datetime, tz: tzinfo, role: Role = "oncall") -> Person | None:
    """The person holding ``role`` at ``at``, or None when the roster has a gap."""
    local = at.astimezone(tz)
    people = {p.id: p for p in roster.people}
    naive = local.replace(tzinfo=None)
    for override in reversed(roster.overrides):
        start, end = _local(override.start, tz), _local(override.end, tz)
        if override.role == role and start <= naive < end:
            return people.get(override.who)
    for shift in reversed(roster.shifts):
        if shift.role != role:
            continue
        day = _shift_day(shift, local)
        if day is not None and _in_dates(shift, day):
            return people.get(_person_of(roster, shift, day))
    return None


def _local(value: datetime, tz: tzinfo) -> datetime:
    """Override times are written as local times; an explicit offset is converted to local."""
    if value.tzinfo is None:
        return value
    return value.astimezone(tz).replace(tzinfo=None)


def receiver_for(
    roster: RosterFile, at: datetime, tz: tzinfo, level: int = 0
) -> tuple[Person | None, bool]:
    """The person to notify at an escalation level and whether the roster had a gap there.

    Level 0 is the on-call person, 1 the duty manager, 2 the department head. A gap at level 0
    falls back to the default receiver; a gap higher up falls back to the next role up, then None.
    """
    role = ROLES[min(level, len(ROLES) - 1)]
    person = on_call(roster, at, tz, role)
    if person is not None:
        return person, False
    if level == 0:
        people = {p.id: p for p in roster.people}
        return people.get(roster.default_receiver or ""), True
    for higher in ROLES[level + 1 :]:
        person = on_call(roster, at, tz, higher)
        if person is not None:
            return person, True
    return None, True


def _boundaries(roster: RosterFile, start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """Every moment in [start, end] where coverage may change: shift edges and override edges."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    points = {start, end}
    first, last = start.date(), end.date()
    day = first - timedelta(days=1)
    times = {s.from_time for s in roster.shifts} | {s.to_time for s in roster.shifts}
    times.add(time(0, 0))
    while day <= last + timedelta(days=1):
        for moment in times:
            points.add(datetime.combine(day, moment, tz))
        day += timedelta(days=1)
    for override in roster.overrides:
        for edge in (override.start, override.end):
            points.add(_local(edge, tz).replace(tzinfo=tz))
    return sorted(p for p in points if start <= p <= end)


def roster_gaps(
    roster: RosterFile, start: datetime, end: datetime, tz: tzinfo, role: Role = "oncall"
) -> list[tuple[datetime, datetime]]:
    """Periods in [start, end) when nobody holds ``role``; adjacent pieces merged (pure, for the dashboard)."""
    gaps: list[tuple[datetime, datetime]] = []
    points = _boundaries(roster, start, end, tz)
    for left, right in pairwise(points):
        if left >= right or on_call(roster, left, tz, role) is not None:
            continue
        if gaps and gaps[-1][1] == left:
            gaps[-1] = (gaps[-1][0], right)
        else:
            gaps.append((left, right))
    return gaps


__all__ = ["on_call", "receiver_for", "roster_gaps"]
