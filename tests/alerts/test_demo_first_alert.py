"""README's promise for the demo: the simulator's live group event becomes an alert within the
minutes README states, counted from the worker's start on a fresh database.

The worker is driven as it starts for real: every job at once, so the first evaluation runs a
moment before the simulator's backfill lands; then a collection, an evaluation and a notification
plan every 15 s (the simulator's poll interval; new complaints wake the evaluation and a new alert
the notifier). Configuration is the shipped ``config/``, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_MODIFIED, JobEvent
from sqlalchemy import select

from alerts.state.engine import evaluators_for
from collectors.simulator import SimulatorCollector
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
    assert isinstance(simulator, SimulatorCollector)
    anchor = start.replace(second=0, microsecond=0)
    [live] = [e for e in simulator.events_between(anchor, anchor, anchor + limit) if e.index == 0]
    product = {"product_code": live.product.code}

    scheduler = build_scheduler(ctx)  # looks at the database before any job runs
    scheduler.start(paused=True)  # wakes are recorded, nothing runs on its own
    try:
        evaluate_job(ctx)  # every job starts at once: the evaluation is done before the backfill
        tick(ctx)  # the backfill, and the alerts on the history's own group events
        first, queued = _first_new_alert(ctx, start, limit)
    finally:
        scheduler.shutdown(wait=False)
    assert first is not None, f"no alert within {limit} of start (README's promise)"
    assert product.items() <= first.key.items(), "the first new alert is the live event's"
    assert first.fired_at is not None and first.fired_at - start <= limit
    assert queued, "its notification is queued in the same minutes"
    assert all(n.created_at - start <= limit for n in queued)


def _first_new_alert(
    ctx: WorkerContext, start: datetime, limit: timedelta
) -> tuple[Alert | None, list[Notification]]:
    """Ticks every poll interval until an alert not there after the backfill, and its queued
    notifications, appear; at most ``limit`` after ``start``."""
    clock = ctx.clock
    assert isinstance(clock, Clock)
    with ctx.factory() as session:
        at_start = set(session.scalars(select(Alert.id)))
    first: Alert | None = None
    queued: Sequence[Notification] = []
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
    return first, list(queued)


def test_a_fresh_database_fits_its_baselines_on_the_backfill_not_before_it(sqlite_engine):
    """The first evaluation is not held back (it runs on the empty database); the backfill's
    first run drops the evaluators it used before it wakes the next one. After a restart on
    stored history nothing is dropped."""
    clock = Clock(datetime(2026, 11, 23, 2, 0, 7, tzinfo=UTC))
    config = load_config(PROJECT_ROOT / "config")
    fresh = WorkerContext(config=config, engine=sqlite_engine, clock=clock)
    scheduler = build_scheduler(fresh)
    dropped_at_wake: list[bool] = []

    def woken(event: JobEvent) -> None:
        if event.job_id == "evaluate":
            with fresh.factory() as session:
                dropped_at_wake.append(evaluators_for(session) is not on_empty)

    scheduler.add_listener(woken, EVENT_JOB_MODIFIED)
    scheduler.start(paused=True)
    try:
        assert fresh.fresh_database is True
        evaluate_job(fresh)
        assert fresh.stats["last_evaluation"] == clock.now.isoformat(), "not held back"
        with fresh.factory() as session:
            on_empty = evaluators_for(session)
        collect_job(fresh, "simulator")  # the backfill
        assert dropped_at_wake == [True], "dropped before the evaluation is woken"
        evaluate_job(fresh)
    finally:
        scheduler.shutdown(wait=False)
    with fresh.factory() as session:
        rules = set(session.scalars(select(Alert.rule)))
        after_backfill = evaluators_for(session)
    assert "product-surge" in rules, "surge baselines fitted on the backfill"

    clock.advance(minutes=1)
    restarted = WorkerContext(config=config, engine=sqlite_engine, clock=clock)
    build_scheduler(restarted)
    assert restarted.fresh_database is False
    collect_job(restarted, "simulator")
    with restarted.factory() as session:
        assert evaluators_for(session) is after_backfill, (
            "nothing dropped on a database that held history"
        )
