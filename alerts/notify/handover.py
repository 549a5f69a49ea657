"""The handover message: when the on-call changes, the person taking over is told what is open.

Escalation and reminders follow the alert, so the night on-call who takes over at 20:00 was never
told of a Ⅰ级 alert the day shift left unacknowledged. At each on-call change (found from the
roster, so no scheduler job is needed) one message per channel lists the open alerts; it goes
through the outbox, keyed by the shift's start and the person, so it is queued once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.detect.findings import alert_start
from alerts.notify.message import STATE_NAMES, plain
from alerts.notify.muting import held_back, stages
from alerts.notify.outbox import message_payload, queue_message
from alerts.notify.roster import on_call
from alerts.notify.routing import effective_receivers, effective_route, route_receivers
from alerts.state.silences import alert_labels
from config.loader import RadarConfig
from domain.calendar import HolidayCalendar
from domain.severity import SEVERITY_LABELS
from domain.states import AlertState
from storage.models import Alert

LOOKBACK = timedelta(hours=24)  # how far back the start of the current shift is searched
STEP = timedelta(minutes=5)
LATE = timedelta(hours=2)  # a handover not queued by then (worker down) is stale: skipped


def shift_start(config: RadarConfig, now: datetime) -> datetime | None:
    """When the current on-call person took over (None: nobody on call, or no change seen)."""
    tz = HolidayCalendar(config.rules.calendar).tz
    person = on_call(config.roster, now, tz)
    if person is None:
        return None
    moment = now.replace(second=0, microsecond=0)
    moment -= timedelta(minutes=moment.minute % 5)
    while now - moment <= LOOKBACK:
        before = on_call(config.roster, moment - timedelta(seconds=1), tz)
        if before is None or before.id != person.id:
            return moment
        moment -= STEP
    return None


def _line(alert: Alert, tz: tzinfo) -> str:
    level = SEVERITY_LABELS.get(alert.severity, str(alert.severity)).split()[0]
    start = alert_start(alert.evidence, alert.fired_at or alert.started_at)
    since = start.astimezone(tz).strftime("%m-%d %H:%M")
    state = STATE_NAMES.get(alert.state, alert.state)
    return f"[{level}] {plain(alert.title, 60)}（{state}，自 {since}）"


def _open_alerts(session: Session, config: RadarConfig, now: datetime) -> list[Alert]:
    muters = stages(session, config, now)
    query = select(Alert).where(
        Alert.state.in_([AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value])
    )
    return [
        a
        for a in session.scalars(query.order_by(Alert.severity, Alert.id))
        if not held_back(session, muters, a, now, audit=False)
    ]


def plan_handover(session: Session, config: RadarConfig, now: datetime, dashboard_url: str) -> int:
    """Queue the handover for the current shift if it has not been; returns rows queued.
    Silenced, inhibited and muted alerts are left out: they page nobody now either."""
    open_alerts = _open_alerts(session, config, now)
    if not open_alerts:
        return 0
    calendar = HolidayCalendar(config.rules.calendar)
    start = shift_start(config, now)
    person = on_call(config.roster, now, calendar.tz)
    if start is None or person is None or now - start > LATE:
        return 0
    receivers, tree = effective_receivers(config), effective_route(config)
    channels = list(
        dict.fromkeys(
            channel
            for alert in open_alerts
            for name in route_receivers(tree, alert_labels(alert), now, calendar)
            if name in receivers
            for channel in receivers[name].channels
        )
    )
    local = calendar.local(start)
    title = f"【交接班】{person.name} {local:%H:%M} 接班：{len(open_alerts)} 条告警未恢复"
    note = "\n".join(_line(a, calendar.tz) for a in open_alerts[:20])
    if len(open_alerts) > 20:
        note += f"\n……另有 {len(open_alerts) - 20} 条，请到看板查看"
    payload = message_payload(title, note, f"{dashboard_url.rstrip('/')}/alerts")
    key = f"handover:{start.isoformat()}:{person.id}"
    return sum(
        queue_message(session, f"{key}:{channel}", person.id, channel, payload, now)
        for channel in channels
    )
