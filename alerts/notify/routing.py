"""Who gets an alert and whether now is the time: the routing tree, mute windows and inhibition."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.state.silences import alert_labels, matches
from config.loader import RadarConfig
from config.routes import InhibitRule, MuteWindow, Receiver, Route, TimeWindow
from domain.calendar import WORKDAY, HolidayCalendar
from domain.states import AlertState
from storage.models import Alert, AlertEvent

log = logging.getLogger(__name__)
DEFAULT_RECEIVER = "default"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTIVE = (AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value)


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


def _contains(rule: InhibitRule, source: Alert, target: Alert) -> bool:
    src, tgt = alert_labels(source), alert_labels(target)
    if any(src.get(label) is None or src.get(label) != tgt.get(label) for label in rule.equal):
        return False
    if rule.min_overlap <= 0:
        return True
    target_ids = set((target.evidence or {}).get("complaint_ids") or [])
    source_ids = set((source.evidence or {}).get("complaint_ids") or [])
    if not target_ids:
        return False
    return len(target_ids & source_ids) / len(target_ids) >= rule.min_overlap


def link_inhibited(session: Session, rules: list[InhibitRule], now: datetime) -> int:
    """Link per-product alerts to the event-level alert that contains them (parent_alert_id) and
    record it on the child; returns how many links were made. Linked alerts stay recorded."""
    if not rules:
        return 0
    active = list(session.scalars(select(Alert).where(Alert.state.in_(ACTIVE))))
    linked = 0
    for rule in rules:
        sources = [a for a in active if matches(rule.source_match, alert_labels(a))]
        for target in active:
            if target.parent_alert_id is not None or not matches(
                rule.target_match, alert_labels(target)
            ):
                continue
            source = next(
                (s for s in sources if s.id != target.id and _contains(rule, s, target)), None
            )
            if source is None:
                continue
            target.parent_alert_id = source.id
            session.add(
                AlertEvent(
                    alert_id=target.id,
                    at=now,
                    kind="inhibited",
                    actor="system",
                    message=f"包含于事件级告警 #{source.id}，通知由其统一发出",
                )
            )
            linked += 1
    return linked


def inhibited_by(session: Session, alert: Alert) -> int | None:
    """The active parent alert that suppresses this alert's notifications, if any."""
    if alert.parent_alert_id is None:
        return None
    parent = session.get(Alert, alert.parent_alert_id)
    if parent is not None and parent.state in ACTIVE:
        return parent.id
    return None
