"""README's promise for the demo: the simulator's live group event becomes an alert within the
minutes README states, counted from the worker's start on a fresh database.

The worker is driven as it starts for real: every job at once, so the first evaluation runs a
moment before the simulator's backfill lands; then a collection, an evaluation and a notification
plan every 15 s (the simulator's poll interval; new complaints wake the evaluation and a new alert
the notifier). Configuration is the shipped ``config/``, unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_MODIFIED, JobEvent
from sqlalchemy import select

from config.loader import load_config
from config.settings import PROJECT_ROOT
from storage.models import Alert, Notification
from tests.conftest import Clock
from worker.context import WorkerContext
from worker.main import build_scheduler, collect_job, evaluate_job, tick

POLL = timedelta(seconds=15)


def readme_minutes() -> int:
    """The number README's quick start promises; the test follows the document."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"first alert for it appears\s+within\s+(\d+)\s+minutes", text)
    assert len(found) == 1, "README states the demo's first-alert time once"
    return int(found[0])


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 11, 23, 2, 0, 7, tzinfo=UTC),  # Monday 10:00 Shanghai, a busy hour
        datetime(2026, 11, 28, 18, 30, 41, tzinfo=UTC),  # Sunday 02:30 Shanghai, a quiet night
        datetime(2026, 2, 17, 6, 15, 0, tzinfo=UTC),  # Spring Festival, first day
    ],
    ids=["monday-morning", "sunday-night", "spring-festival"],
)
def test_the_demo_live_event_alerts_within_readme_minutes_of_start(sqlite_engine, start):
    limit = timedelta(minutes=readme_minutes())
    clock = Clock(start)
    ctx = WorkerContext(
        config=load_config(PROJECT_ROOT / "config"), engine=sqlite_engine, clock=clock
    )
    simulator = ctx.collectors["simulator"]
    anchor = start.replace(second=0, microsecond=0)
    [live] = [e for e in simulator.events_between(anchor, anchor, anchor + limit) if e.index == 0]
    product = {"product_code": live.product.code}

    evaluate_job(ctx)  # the scheduler starts it side by side with the backfill: it comes first
    tick(ctx)  # the backfill, and the alerts on the history's own group events
    with ctx.factory() as session:
        at_start = set(session.scalars(select(Alert.id)))
    first: Alert | None = None
    while first is None and clock.now - start <= limit:
        clock.advance(seconds=POLL.total_seconds())
        tick(ctx)
        with ctx.factory() as session:
            new = session.scalars(
                select(Alert).where(Alert.id.not_in(at_start)).order_by(Alert.id)
            ).all()
            first = new[0] if new else None
            queued = (
                session.scalars(select(Notification).where(Notification.alert_id == first.id)).all()
                if first
                else []
            )
    assert first is not None, f"no alert within {limit} of start (README's promise)"
    assert product.items() <= first.key.items(), "the first new alert is the live event's"
    assert first.fired_at is not None and first.fired_at - start <= limit
    assert queued, "its notification is queued in the same minutes"
    assert all(n.created_at - start <= limit for n in queued)


def test_only_a_fresh_database_waits_for_the_first_runs(sqlite_engine):
    """The first evaluation waits for the sources' first runs on an empty database only: after a
    restart on stored history it runs at once, before any source has answered."""
    clock = Clock(datetime(2026, 11, 23, 2, 0, 7, tzinfo=UTC))
    config = load_config(PROJECT_ROOT / "config")
    fresh = WorkerContext(config=config, engine=sqlite_engine, clock=clock)
    evaluate_job(fresh)
    assert "last_evaluation" not in fresh.stats, "an empty database waits for the backfill"
    tick(fresh)
    assert fresh.stats["last_evaluation"] == clock.now.isoformat()

    restarted = WorkerContext(config=config, engine=sqlite_engine, clock=clock)
    assert restarted.first_runs_pending == {"simulator"}
    evaluate_job(restarted)
    assert restarted.stats["last_evaluation"] == clock.now.isoformat()


def test_the_backfill_wakes_an_evaluation_that_no_longer_waits(sqlite_engine):
    """The evaluation a first run wakes may start before that run's job has returned: when it
    is woken, the run no longer counts as pending (else it waited for the next interval, 30 s)."""
    clock = Clock(datetime(2026, 11, 23, 2, 0, 7, tzinfo=UTC))
    ctx = WorkerContext(
        config=load_config(PROJECT_ROOT / "config"), engine=sqlite_engine, clock=clock
    )
    scheduler = build_scheduler(ctx)
    pending_at_wake: list[set[str]] = []

    def woken(event: JobEvent) -> None:
        if event.job_id == "evaluate":
            pending_at_wake.append(set(ctx.first_runs_pending))

    scheduler.add_listener(woken, EVENT_JOB_MODIFIED)
    scheduler.start(paused=True)
    try:
        assert ctx.fresh_database is True
        collect_job(ctx, "simulator")  # the backfill
    finally:
        scheduler.shutdown(wait=False)
    assert pending_at_wake == [set()]
