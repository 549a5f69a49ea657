"""The worker's start-up on a fresh database: the first evaluation waits for the backfill."""

from __future__ import annotations

from datetime import UTC, datetime

from config.loader import load_config
from config.settings import PROJECT_ROOT
from tests.conftest import Clock
from worker.context import WorkerContext
from worker.main import evaluate_job, tick


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
