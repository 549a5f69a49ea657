"""The worker process: APScheduler jobs that collect, evaluate and notify, each on its own interval.

Each job is a plain function over a ``WorkerContext`` so tests can run ticks with any clock.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.reply_codes import pull_and_acknowledge
from alerts.state.engine import evaluate, forget_evaluators
from collectors.base import WORKER_STOPPING
from collectors.runner import collect_once
from config.sources import source_zone
from domain.states import EventKind
from storage.db import session_scope
from storage.models import Complaint, CountDelivery, WorkerHeartbeat
from storage.partitions import maintain as maintain_partitions
from worker.context import WorkerContext
from worker.dbguard import guard_jobs
from worker.monthly_job import add_monthly_report_job
from worker.weekly_job import add_weekly_report_job

log = logging.getLogger("radar.worker")


def collect_job(ctx: WorkerContext, source_name: str) -> None:
    source = next(s for s in ctx.config.sources.sources if s.name == source_name)
    collector = ctx.collectors[source.name]
    zone = source_zone(source)
    result = collect_once(ctx.factory, source.name, source.kind, collector, ctx.clock(), zone)
    ctx.stats[f"collect:{source_name}"] = result.inserted
    if (result.inserted or result.counts) and source_name in ctx.yet_to_store:
        ctx.yet_to_store.discard(source_name)
        if ctx.fresh_database:
            # before the wake, so the evaluation it wakes fits on this history (build_scheduler)
            forget_evaluators(ctx.engine)
    if result.inserted or result.counts:
        wake(ctx, "evaluate")
    if result.more and (result.inserted or result.counts or result.quarantined):
        # A backlog (a backfill, a source back from an outage): the next run starts at once
        # instead of a poll interval later. A run that stored nothing new waits as usual.
        wake(ctx, f"collect:{source_name}")
    if result.inserted or result.quarantined:
        log.info(
            "source %s: %d new, %d duplicate, %d quarantined",
            source_name,
            result.inserted,
            result.duplicates,
            result.quarantined,
        )


def wake(ctx: WorkerContext, job_id: str) -> None:
    """Run a job now rather than at its next interval: new complaints are evaluated, and new
    alerts notified, at once, so a complaint reaches the duty phone within a poll interval plus
    seconds instead of plus the evaluation and notification intervals.

    A job that is running right now is run again as soon as it finishes (its current run may
    have read the database before the news was committed); waking it while it runs would only
    make APScheduler skip the extra run with a warning.
    """
    if ctx.scheduler is None:
        return
    with ctx.wake_lock:  # held across the modify: see stop_scheduler
        if ctx.stopping:
            return
        if job_id in ctx.running_jobs:
            ctx.rerun_jobs.add(job_id)
            return
        job = ctx.scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))


def stop_scheduler(ctx: WorkerContext, scheduler: BackgroundScheduler) -> None:
    """Stop taking new runs and let running jobs finish their transaction.

    APScheduler's ``shutdown(wait=True)`` holds its job-store lock while it waits for running
    jobs, and a job that wakes another needs that lock: so wakes are closed first, under the
    same lock ``wake`` holds, and a wake can never be half-way into the scheduler here.
    """
    with ctx.wake_lock:
        ctx.stopping = True
    WORKER_STOPPING.set()  # backfill runs and HTTP retry waits end early (collectors.base)
    try:
        scheduler.shutdown(wait=True)
    finally:
        WORKER_STOPPING.clear()  # every job has ended: nothing else in this process stops


@contextmanager
def _running(ctx: WorkerContext, job_id: str) -> Iterator[None]:
    """Mark a wakeable job as running for ``wake`` (set by the job itself, not by scheduler
    events, whose order across jobs APScheduler does not promise)."""
    with ctx.wake_lock:
        ctx.running_jobs.add(job_id)
    try:
        yield
    finally:
        with ctx.wake_lock:
            ctx.running_jobs.discard(job_id)


def _rerun_woken_jobs(scheduler: BackgroundScheduler, ctx: WorkerContext) -> None:
    """Run again the jobs woken while they ran. The executor releases a job's instance before it
    dispatches EXECUTED/ERROR, so this rerun is never refused for "maximum running instances"."""

    def finished(event: JobExecutionEvent) -> None:
        with ctx.wake_lock:
            again = event.job_id in ctx.rerun_jobs
            ctx.rerun_jobs.discard(event.job_id)
        if again:
            wake(ctx, event.job_id)

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


def evaluate_job(ctx: WorkerContext) -> None:
    with _running(ctx, "evaluate"):
        _evaluate(ctx)


def _evaluate(ctx: WorkerContext) -> None:
    if not ctx.is_leader():
        return
    now = ctx.clock()
    with session_scope(ctx.factory) as session:
        result = evaluate(session, ctx.config.rules, now, sources=ctx.config.sources)
    for alert, transition in result.changes:
        if transition.kind != EventKind.UPDATED:
            log.info("alert %s %s: %s", alert.id, transition.kind, alert.title)
    if any(transition.kind != EventKind.UPDATED for _, transition in result.changes):
        wake(ctx, "notify")
    ctx.stats["last_evaluation"] = now.isoformat()


def _stored_nothing(ctx: WorkerContext) -> bool:
    with ctx.factory() as session:
        complaint = session.scalar(select(Complaint.id).limit(1))
        delivery = session.scalar(select(CountDelivery.id).limit(1))
    return complaint is None and delivery is None


def notify_job(ctx: WorkerContext) -> None:
    with _running(ctx, "notify"):
        _notify(ctx)


def _notify(ctx: WorkerContext) -> None:
    if not ctx.is_leader():
        return
    now = ctx.clock()
    with session_scope(ctx.factory) as session:
        plan(session, ctx.config, now, ctx.dashboard_url)
    sent, failed = deliver_due(
        ctx.factory, ctx.channels, ctx.config, now, dashboard_url=ctx.dashboard_url
    )
    if sent or failed:
        log.info("notifications: %d sent, %d failed attempts", sent, failed)


def sms_replies_job(ctx: WorkerContext) -> None:
    """Acknowledge alerts by the reply codes people texted back (leader only, like notify)."""
    if ctx.is_leader():
        pull_and_acknowledge(ctx.factory, ctx.channels, ctx.clock())


def heartbeat_job(ctx: WorkerContext) -> None:
    now = ctx.clock()
    with session_scope(ctx.factory) as session:
        beat = session.get(WorkerHeartbeat, ctx.name)
        if beat is None:
            beat = WorkerHeartbeat(
                name=ctx.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                started_at=ctx.started_at,
                beat_at=now,
                info={},
            )
            session.add(beat)
        beat.beat_at = now
        beat.info = dict(ctx.stats)


def tick(ctx: WorkerContext) -> None:
    """Every job once, in order: tests drive the worker with it (the worker runs its jobs from
    the scheduler)."""
    for name in ctx.collectors:
        collect_job(ctx, name)
    evaluate_job(ctx)
    notify_job(ctx)
    sms_replies_job(ctx)
    heartbeat_job(ctx)


def build_scheduler(ctx: WorkerContext, first_run: datetime | None = None) -> BackgroundScheduler:
    """The worker's jobs; with ``first_run``, collecting, evaluating, notifying and the heartbeat
    all run first at that moment, side by side, instead of one interval after the start."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    starts = {} if first_run is None else {"next_run_time": first_run}
    # Every job starts at once, so on a fresh database the first evaluation runs a moment before
    # the sources' backfill lands. The surge rules fit their daily baselines on their first
    # evaluation, and history stored after that fit counts as late history, refitted at most
    # hourly: a new installation (the demo too) had surge rules without a baseline for its first
    # hour. So on a database that held nothing at start-up, the first run of each source that
    # stores something drops the evaluators (as a restart would), and the evaluation it wakes
    # starts afresh on that history.
    # Looked at here, before any job runs: a first page stored before the first evaluation must
    # not make a fresh database look old.
    try:
        ctx.fresh_database = _stored_nothing(ctx)
    except SQLAlchemyError:  # the database is down: nothing is dropped, as before
        ctx.fresh_database = None
    for source in ctx.config.sources.sources:
        if source.name in ctx.collectors:
            scheduler.add_job(
                collect_job,
                "interval",
                seconds=source.interval_seconds,
                args=[ctx, source.name],
                id=f"collect:{source.name}",
                name=f"collect {source.name}",
                **starts,
            )
    scheduler.add_job(
        evaluate_job,
        "interval",
        seconds=ctx.config.rules.evaluation_interval_seconds,
        args=[ctx],
        id="evaluate",
        **starts,
    )
    scheduler.add_job(notify_job, "interval", seconds=15, args=[ctx], id="notify", **starts)
    scheduler.add_job(heartbeat_job, "interval", seconds=10, args=[ctx], id="heartbeat", **starts)
    scheduler.add_job(
        sms_replies_job, "interval", seconds=20, args=[ctx], id="sms-replies", **starts
    )
    # PostgreSQL: monthly partitions of complaints created a few months ahead, daily.
    scheduler.add_job(
        maintain_partitions, "cron", hour=1, args=[ctx.engine, ctx.clock], id="partitions"
    )
    ctx.scheduler = scheduler
    _rerun_woken_jobs(scheduler, ctx)

    add_weekly_report_job(scheduler, ctx)

    add_monthly_report_job(scheduler, ctx)
    guard_jobs(scheduler, ctx.engine)  # a database outage: one line per attempt and growing pauses
    # A thread for every job: ten sources that do not answer must not hold back the evaluation,
    # the notifications or the heartbeat (APScheduler's default pool has ten threads).
    scheduler.add_executor(ThreadPoolExecutor(max_workers=len(scheduler.get_jobs())), "default")
    return scheduler


def run_worker(ctx: WorkerContext) -> None:
    """Run until Ctrl-C or SIGTERM; every job runs once at start-up, side by side.

    A source that takes minutes (a backfill, a host that does not answer) therefore does not
    hold back the evaluation, the notifications owed from before a restart, or the heartbeat;
    its new complaints wake the evaluation when they are stored.

    Signal handlers only set a flag, and the main thread waits on it while the scheduler runs
    in its own thread. An exception raised from a signal handler could land anywhere (even in a
    garbage-collection callback, which Python prints and ignores), and a flag set before the
    scheduler starts is never missed.
    """
    log.info("worker %s starting with %d sources", ctx.name, len(ctx.collectors))
    scheduler = build_scheduler(ctx, first_run=datetime.now(UTC))
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        if not stopping.is_set():  # a second signal (Ctrl-C, then the demo's terminate): no news
            log.info("worker %s stopping (signal %d)", ctx.name, signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.start()
        while not stopping.wait(timeout=1):
            pass
        stop_scheduler(ctx, scheduler)
    finally:
        ctx.leader.release()
