"""The Monday 09:00 (local, ``rules.yaml`` ``calendar.timezone``) report: last week's summary and Excel file, queued once.

Not a cron job: a cron fire missed while the worker is down is gone after a restart. Instead a
check runs at start-up and every few minutes and, once Monday 09:00 of the current week has
passed, queues last week's report in the notifications outbox unless it is already there. The
outbox (alerts/notify/delivery.py) then retries with backoff, falls back to another channel,
and its leases and unique keys (one per week and channel) keep a restart from sending twice.

A worker that has never queued a report (a first deployment) sends last week's only within
``FIRST_REPORT_GRACE`` of its Monday 09:00: executives should not get a stale report mid-week.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.notify.channels import Attachment
from alerts.notify.outbox import message_payload, queue_message, queued_keys
from alerts.notify.roster import receiver_for
from dashboard.report import build_weekly_report, summary_text, to_excel
from dashboard.timeutil import day_start, previous_full_week
from domain.calendar import HolidayCalendar
from storage.db import session_scope
from storage.models import Notification

if TYPE_CHECKING:
    from worker.context import WorkerContext

log = logging.getLogger("radar.weekly")
SEND_AT = timedelta(hours=9)  # after local midnight on Monday
CHECK_EVERY_MINUTES = 5
FIRST_REPORT_GRACE = timedelta(hours=12)  # a Monday deployment still sends that day's report
KEY_PREFIX = "weekly-report:"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def due_at(week: date, tz: tzinfo) -> datetime:
    """When the report on ``week`` (a Monday) is due: 09:00 local the Monday after."""
    return day_start(week + timedelta(days=7), tz) + SEND_AT


def report_key(week: date, channel: str) -> str:
    return f"{KEY_PREFIX}{week.isoformat()}:{channel}"


def ever_queued(session: Session, prefix: str = KEY_PREFIX) -> bool:
    """Whether any report with this key prefix was ever queued here (any channel, any status)."""
    query = select(Notification.id).where(Notification.idempotency_key.startswith(prefix))
    return session.scalar(query.limit(1)) is not None


@dataclass(frozen=True)
class ReportMessage:
    title: str
    body: str
    path: str  # the dashboard page it links to, e.g. "/weekly"
    attachment: Attachment


def queue_report(
    ctx: WorkerContext,
    prefix: str,
    keys: dict[str, str],
    due: datetime,
    grace: timedelta,
    build: Callable[[], ReportMessage],
) -> int:
    """Queue a scheduled report on every channel (``keys``: channel → idempotency key) where it
    is due and not yet queued. A first deployment (nothing with ``prefix`` ever queued) skips a
    report more than ``grace`` overdue. Returns the rows queued; ``build`` runs only then."""
    now = ctx.clock()
    if now < due or not ctx.channels:
        return 0
    with session_scope(ctx.factory) as session:
        done = queued_keys(session, list(keys.values()))
        first_ever = not done and not ever_queued(session, prefix)
    missing = [name for name, key in keys.items() if key not in done]
    if not missing:
        return 0
    if first_ever and now > due + grace:
        log.info("no %s report queued before; the one due %s is skipped as stale", prefix, due)
        return 0
    message = build()
    link = f"{ctx.dashboard_url.rstrip('/')}{message.path}"
    payload = message_payload(message.title, message.body, link, (message.attachment,))
    tz = HolidayCalendar(ctx.config.rules.calendar).tz
    person, _gap = receiver_for(ctx.config.roster, now, tz)
    queued = 0
    with session_scope(ctx.factory) as session:
        for name in missing:
            receiver = person.id if person else ""
            queued += queue_message(session, keys[name], receiver, name, payload, now)
    log.info("%s report queued on %d channel(s)", prefix.rstrip(":"), queued)
    return queued


def queue_weekly_report(ctx: WorkerContext) -> int:
    """Queue last week's report on every channel where it is due and not yet queued; returns
    the rows queued (0 before Monday 09:00, and on every check after the first)."""
    calendar = HolidayCalendar(ctx.config.rules.calendar)
    week = previous_full_week(ctx.clock(), calendar.tz)

    def build() -> ReportMessage:
        report = build_weekly_report(ctx.engine, week, calendar)
        head, _, body = summary_text(report).partition("\n")
        name = f"投诉雷达周报-{week.isoformat()}.xlsx"
        return ReportMessage(head, body, "/weekly", Attachment(name, XLSX, to_excel(report)))

    keys = {name: report_key(week, name) for name in ctx.channels}
    return queue_report(ctx, KEY_PREFIX, keys, due_at(week, calendar.tz), FIRST_REPORT_GRACE, build)


def weekly_report_job(ctx: WorkerContext) -> None:
    """Only the leading worker queues; the notify job (every 15 s) delivers.

    It does not ``wake`` the notify job: waking modifies a job under the scheduler's job-store
    lock, which ``shutdown(wait=True)`` holds while it waits for this job, so a check running
    at SIGTERM would hang the worker; 15 seconds do not matter to a weekly report.
    """
    if ctx.is_leader():
        queue_weekly_report(ctx)


def add_weekly_report_job(scheduler: BaseScheduler, ctx: WorkerContext) -> None:
    """At start-up, then every few minutes; never skipped as a misfire (it is idempotent)."""
    scheduler.add_job(
        weekly_report_job,
        "interval",
        minutes=CHECK_EVERY_MINUTES,
        args=[ctx],
        id="weekly-report",
        name="weekly report",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
    )
