"""The Monday 09:00 (Asia/Shanghai) report: last week's summary and Excel file, queued once.

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
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.notify.channels import Attachment
from alerts.notify.outbox import message_payload, queue_message, queued_keys
from alerts.roster import receiver_for
from dashboard.report import build_weekly_report, summary_text, to_excel
from dashboard.timeutil import day_start, previous_full_week
from storage.db import session_scope
from storage.models import Notification

if TYPE_CHECKING:
    from alerts.worker import WorkerContext

log = logging.getLogger("radar.weekly")
SEND_AT = timedelta(hours=9)  # after Shanghai midnight on Monday
CHECK_EVERY_MINUTES = 5
FIRST_REPORT_GRACE = timedelta(hours=12)  # a Monday deployment still sends that day's report
KEY_PREFIX = "weekly-report:"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def due_at(week: date) -> datetime:
    """When the report on ``week`` (a Monday) is due: 09:00 Shanghai the Monday after."""
    return day_start(week + timedelta(days=7)) + SEND_AT


def report_key(week: date, channel: str) -> str:
    return f"{KEY_PREFIX}{week.isoformat()}:{channel}"


def ever_queued(session: Session) -> bool:
    """Whether any weekly report was ever queued here (on any channel, in any status)."""
    query = select(Notification.id).where(Notification.idempotency_key.startswith(KEY_PREFIX))
    return session.scalar(query.limit(1)) is not None


def queue_weekly_report(ctx: WorkerContext) -> int:
    """Queue last week's report on every channel where it is due and not yet queued; returns
    the rows queued (0 before Monday 09:00, and on every check after the first)."""
    now = ctx.clock()
    week = previous_full_week(now)
    if now < due_at(week) or not ctx.channels:
        return 0
    keys = {name: report_key(week, name) for name in ctx.channels}
    with session_scope(ctx.factory) as session:
        done = queued_keys(session, list(keys.values()))
        first_ever = not done and not ever_queued(session)
    missing = [name for name, key in keys.items() if key not in done]
    if not missing:
        return 0
    if first_ever and now > due_at(week) + FIRST_REPORT_GRACE:
        log.info(
            "no weekly report queued before; the one for %s (due %s) is skipped as stale, "
            "the next goes out %s",
            week,
            due_at(week).isoformat(),
            due_at(week + timedelta(days=7)).isoformat(),
        )
        return 0
    report = build_weekly_report(ctx.engine, week)
    head, _, body = summary_text(report).partition("\n")
    workbook = Attachment(f"投诉雷达周报-{week.isoformat()}.xlsx", XLSX, to_excel(report))
    payload = message_payload(head, body, f"{ctx.dashboard_url.rstrip('/')}/weekly", (workbook,))
    person, _gap = receiver_for(ctx.config.roster, now)
    queued = 0
    with session_scope(ctx.factory) as session:
        for name in missing:
            receiver = person.id if person else ""
            queued += queue_message(session, keys[name], receiver, name, payload, now)
    log.info("weekly report for %s queued on %d channel(s)", week, queued)
    return queued


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
