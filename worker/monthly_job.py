"""The closing-day report of the accountability month: queued once on the cycle's closing day
(by default the 21st, 09:00 local) for the cycle that ended the day before.

Built like the Monday report (worker/weekly_job.py): a check at start-up and every few
minutes queues the report in the notifications outbox unless it is already there, so a worker
that was down at 09:00 still sends it, and the outbox's unique keys keep a restart from
sending it twice. A first deployment does not send a cycle closed long before it started.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler

from alerts.notify.channels import Attachment
from dashboard.monthly import Cycle, cycle_of, previous_cycle
from dashboard.monthly_queries import stored_snapshot_keys
from dashboard.monthly_report import (
    build_monthly_report,
    freeze_monthly_report,
    snapshot_key,
    summary_text,
    to_excel,
)
from dashboard.settings import dashboard_settings
from dashboard.timeutil import day_start
from domain.calendar import HolidayCalendar
from worker.weekly_job import ReportMessage, queue_report

if TYPE_CHECKING:
    from worker.context import WorkerContext

SEND_AT = timedelta(hours=9)
CHECK_EVERY_MINUTES = 5
FIRST_REPORT_GRACE = timedelta(days=1)
KEY_PREFIX = "monthly-report:"
BACKFILL_CYCLES = 23  # with the last closed one, the cycles the monthly page offers
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def due_at(cycle: Cycle, tz: tzinfo) -> datetime:
    """09:00 local on the cycle's closing day (the day after its last day)."""
    return day_start(cycle.closing_day, tz) + SEND_AT


def last_closed_cycle(now: datetime, start_day: int, tz: tzinfo) -> Cycle:
    """The most recent cycle whose last day is over at ``now``."""
    return previous_cycle(cycle_of(now.astimezone(tz).date(), start_day), start_day)


def report_key(cycle: Cycle, channel: str) -> str:
    return f"{KEY_PREFIX}{cycle.name}:{channel}"


def queue_monthly_report(ctx: WorkerContext) -> int:
    """Queue the last closed cycle's report on every channel where it is due and not yet
    queued; returns the rows queued."""
    now = ctx.clock()
    config = ctx.config.rules.accountability
    calendar = HolidayCalendar(ctx.config.rules.calendar)
    cycle = last_closed_cycle(now, config.cycle_start_day, calendar.tz)

    def build() -> ReportMessage:
        mode = dashboard_settings().deadline_days
        report = build_monthly_report(ctx.engine, cycle, config, now, mode, calendar=calendar)
        head, _, body = summary_text(report).partition("\n")
        name = f"投诉雷达月度考核-{cycle.name}.xlsx"
        return ReportMessage(head, body, "/monthly", Attachment(name, XLSX, to_excel(report)))

    keys = {name: report_key(cycle, name) for name in ctx.channels}
    return queue_report(
        ctx, KEY_PREFIX, keys, due_at(cycle, calendar.tz), FIRST_REPORT_GRACE, build
    )


def freeze_cycles(ctx: WorkerContext) -> int:
    """Snapshot the open cycle's counts and the last closed cycle's (each again when a
    complaint changed what they were counted from) and, one per check, an older cycle the page
    offers that has none: the page then counts only overdue decisions. Returns the snapshots
    written."""
    now = ctx.clock()
    config = ctx.config.rules.accountability
    calendar = HolidayCalendar(ctx.config.rules.calendar)
    cycle = cycle_of(now.astimezone(calendar.tz).date(), config.cycle_start_day)
    written = int(freeze_monthly_report(ctx.engine, cycle, config, now, calendar=calendar))
    cycle = previous_cycle(cycle, config.cycle_start_day)  # the last closed one
    written += freeze_monthly_report(ctx.engine, cycle, config, now, calendar=calendar)
    stored = stored_snapshot_keys(ctx.engine)
    for _ in range(BACKFILL_CYCLES):
        cycle = previous_cycle(cycle, config.cycle_start_day)
        if snapshot_key(cycle, config, calendar) not in stored:
            return written + freeze_monthly_report(
                ctx.engine, cycle, config, now, calendar=calendar
            )
    return written


def monthly_report_job(ctx: WorkerContext) -> None:
    """Only the leading worker queues; the notify job delivers (see weekly_report_job). The
    snapshot comes first, so the report is built from it."""
    if ctx.is_leader():
        freeze_cycles(ctx)
        queue_monthly_report(ctx)


def add_monthly_report_job(scheduler: BaseScheduler, ctx: WorkerContext) -> None:
    scheduler.add_job(
        monthly_report_job,
        "interval",
        minutes=CHECK_EVERY_MINUTES,
        args=[ctx],
        id="monthly-report",
        name="monthly report",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
    )
