"""New complaints wake the evaluation at once, and new alerts the notifier (no interval waits)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

import collectors.runner as runner
from collectors.base import Batch
from storage.db import make_session_factory
from tests.alerts.test_foundation_worker import make_config
from tests.collectors.helpers import PagedSource, record, stored_ids
from worker.context import WorkerContext
from worker.main import _running, build_scheduler, collect_job, evaluate_job, stop_scheduler, wake


def _start_paused(scheduler: BackgroundScheduler) -> None:
    """The worker's scheduler, paused: run times are set, nothing runs."""
    scheduler.start(paused=True)
    assert scheduler.running


def _due_in(ctx: WorkerContext, job_id: str) -> timedelta:
    assert ctx.scheduler is not None, "build_scheduler sets the scheduler"
    return ctx.scheduler.get_job(job_id).next_run_time - datetime.now(UTC)


def test_collecting_new_complaints_wakes_evaluation_and_a_new_alert_wakes_notify(engine, clock):
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    scheduler = build_scheduler(ctx)
    _start_paused(scheduler)
    try:
        assert _due_in(ctx, "evaluate") > timedelta(seconds=20)
        assert _due_in(ctx, "notify") > timedelta(seconds=5)
        collect_job(ctx, "sim")  # the simulator's backfill: new complaints
        assert _due_in(ctx, "evaluate") <= timedelta(seconds=1)
        notify_due = _due_in(ctx, "notify")
        assert notify_due > timedelta(seconds=5)
        for _ in range(30):  # the injected event crosses the threshold within half an hour
            clock.advance(minutes=1)
            collect_job(ctx, "sim")
            evaluate_job(ctx)
            if _due_in(ctx, "notify") <= timedelta(seconds=1):
                break
        assert _due_in(ctx, "notify") <= timedelta(seconds=1), "a firing alert wakes the notifier"
    finally:
        scheduler.shutdown(wait=False)


def test_nothing_new_wakes_nothing(engine, clock):
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    collect_job(ctx, "sim")
    evaluate_job(ctx)
    scheduler = build_scheduler(ctx)
    _start_paused(scheduler)
    try:
        collect_job(ctx, "sim")  # same clock: the window was already collected
        assert _due_in(ctx, "evaluate") > timedelta(seconds=20)
    finally:
        scheduler.shutdown(wait=False)


def test_a_job_woken_while_it_runs_runs_once_more_after_it_without_a_skip_warning(
    engine, clock, caplog
):
    """The collector commits news while the evaluation is mid-run (it may have read the
    database before the commit): one more run right after it, not a skipped one."""
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    scheduler = build_scheduler(ctx)
    for job in scheduler.get_jobs():
        job.remove()
    release = threading.Event()
    started: list[float] = []

    def probe() -> None:
        with _running(ctx, "probe"):
            started.append(time.monotonic())
            if len(started) == 1:
                release.wait(10)

    scheduler.add_job(probe, "interval", hours=1, id="probe")
    scheduler.start()
    try:
        wake(ctx, "probe")
        _wait_until(lambda: len(started) == 1)
        for _ in range(3):  # several pieces of news during one run: one more run, not three
            wake(ctx, "probe")
        time.sleep(0.3)
        assert len(started) == 1, "a woken job must not run twice at once"
        release.set()
        _wait_until(lambda: len(started) == 2)
        time.sleep(0.5)
        assert len(started) == 2
        assert _due_in(ctx, "probe") > timedelta(minutes=59)
    finally:
        release.set()
        scheduler.shutdown(wait=False)
    assert "maximum number of running instances" not in caplog.text


def _wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_stopping_while_a_job_wakes_another_does_not_hang(engine, clock):
    """shutdown(wait=True) holds APScheduler's job-store lock while it waits for running jobs;
    a job that wakes another during it must not wait for that lock forever."""
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    scheduler = build_scheduler(ctx)
    for job in scheduler.get_jobs():
        job.remove()
    running = threading.Event()
    woke = threading.Event()

    def waker() -> None:
        running.set()
        time.sleep(0.5)  # the stop begins meanwhile
        wake(ctx, "other")
        woke.set()

    scheduler.add_job(waker, "interval", hours=1, id="waker")
    scheduler.add_job(lambda: None, "interval", hours=1, id="other")
    scheduler.start()
    wake(ctx, "waker")
    assert running.wait(10)
    stopper = threading.Thread(target=stop_scheduler, args=(ctx, scheduler), daemon=True)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "the worker hung in shutdown"
    assert woke.is_set()


def test_a_source_with_a_backlog_is_collected_again_at_once(engine, clock, monkeypatch):
    """A run ends after MAX_BATCHES_PER_RUN pages; with pages left it starts the next run
    itself, so a backfill drains in seconds rather than one run per poll interval."""
    monkeypatch.setattr(runner, "MAX_BATCHES_PER_RUN", 3)
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    source = PagedSource([record(i) for i in range(100)], size=10)  # ten pages: four runs
    ctx.collectors["sim"] = source
    scheduler = build_scheduler(ctx)
    for job in scheduler.get_jobs():
        if job.id != "collect:sim":
            job.remove()
    scheduler.start()
    try:
        wake(ctx, "collect:sim")
        factory = make_session_factory(engine)
        _wait_until(lambda: len(stored_ids(factory, "sim")) == 100)
        _wait_until(lambda: "collect:sim" not in ctx.running_jobs)
        # Drained: the next run waits for the source's interval again.
        interval = ctx.config.sources.sources[0].interval_seconds
        assert _due_in(ctx, "collect:sim") > timedelta(seconds=interval - 5)
    finally:
        scheduler.shutdown(wait=False)


def test_a_run_at_the_page_limit_that_stored_nothing_new_waits_for_its_interval(
    engine, clock, monkeypatch
):
    """A source that keeps saying "more" while delivering what is stored already must not be
    read in a loop."""
    monkeypatch.setattr(runner, "MAX_BATCHES_PER_RUN", 3)
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    ctx.collectors["sim"] = RepeatingSource(record(0))
    collect_job(ctx, "sim")  # stores the record: news, so a wake would be due
    scheduler = build_scheduler(ctx)
    _start_paused(scheduler)
    try:
        collect_job(ctx, "sim")  # three pages of the same record: nothing new
        assert _due_in(ctx, "collect:sim") > timedelta(seconds=5)
    finally:
        scheduler.shutdown(wait=False)


class RepeatingSource:
    """Every page is the same record and says there is more."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw

    def fetch(self, cursor: str, now: datetime) -> Batch:
        return Batch(records=[self.raw], cursor=str(int(cursor or 0) + 1), has_more=True)
