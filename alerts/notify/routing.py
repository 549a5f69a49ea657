"""Who gets an alert and whether now is the time: the routing tree and mute windows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from alerts.state.silences import matches
from config.loader import RadarConfig
from config.routes import MuteWindow, Receiver, Route, TimeWindow
from domain.calendar import WORKDAY, HolidayCalendar

log = logging.getLogger(__name__)
DEFAULT_RECEIVER = "default"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def effective_receivers(config: RadarConfig) -> dict[str, Receiver]:
    """Declared receivers, or one receiver on the default channel when routes.yaml has none."""
    if config.routes.receivers:
        return {r.name: r for r in config.routes.receivers}
    channel = config.channels.default_channel
    if not channel:
        return {}
    return {DEFAULT_RECEIVER: Receiver(name=DEFAULT_RECEIVER, channels=[channel])}


def effective_route(config: RadarConfig) -> Route:
    return config.routes.route or Route(receiver=DEFAULT_RECEIVER)


def route_receivers(
    route: Route,
    labels: Mapping[str, str],
    at: datetime | None,
    calendar: HolidayCalendar,
) -> list[str]:
    """Alertmanager's walk: the first matching child wins (unless it says continue); children
    inherit their parent's receiver; when no child matches, the node itself takes the alert.
    A route with ``active`` windows matches only when ``at`` falls in one of them (days by the
    configured ``calendar``)."""

    def walk(node: Route, inherited: str | None) -> list[str] | None:
        if not matches(node.match, labels):
            return None
        if (
            node.active
            and at is not None
            and not any(in_window(w, at, calendar) for w in node.active)
        ):
            return None
        receiver = node.receiver or inherited
        found: list[str] = []
        for child in node.routes:
            got = walk(child, receiver)
            if got is not None:
                found += got
                if not child.continue_:
                    break
        if not found and receiver:
            found = [receiver]
        return found

    return list(dict.fromkeys(walk(route, None) or []))


def is_holiday(day: date, calendar: HolidayCalendar) -> bool:
    """A public holiday or a weekend that is not a 调休 workday, by the product's one calendar
    (``rules.yaml`` ``calendar.holidays`` over chinesecalendar over weekends), so mute windows
    and detection never disagree about what day it is."""
    return calendar.day_type(day) != WORKDAY


def _day_kinds(day: date, calendar: HolidayCalendar) -> set[str]:
    kinds = {"any", WEEKDAYS[day.weekday()]}
    kinds.add("holiday" if is_holiday(day, calendar) else "workday")
    if day.weekday() >= 5:
        kinds.add("weekend")
    return kinds


def in_window(window: MuteWindow | TimeWindow, at: datetime, calendar: HolidayCalendar) -> bool:
    """Whether ``at`` falls in the window; an overnight window belongs to the day it starts on."""
    local = calendar.local(at)
    clock, day = local.time(), local.date()
    start, end = window.from_time, window.to_time
    if start < end:
        owner = day if start <= clock < end else None
    elif clock >= start:
        owner = day
    elif clock < end:
        owner = day - timedelta(days=1)
    else:
        owner = None
    return owner is not None and bool(_day_kinds(owner, calendar) & set(window.days))


def muted_by(
    windows: list[MuteWindow],
    labels: Mapping[str, str],
    at: datetime,
    calendar: HolidayCalendar,
) -> str | None:
    """The name of the first mute window that holds the alert back now, if any."""
    for window in windows:
        if matches(window.match, labels) and in_window(window, at, calendar):
            return window.name
    return None
