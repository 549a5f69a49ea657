"""The PostgreSQL server stops for 30 s and comes back, under a running worker.

Runs last (see conftest.py): it stops the real server that other tests use, and always starts it
again in ``finally``.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL
from tests.reliability.conftest import url_of
from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import (
    assert_alerts_consistent,
    assert_counts_match_records,
    radar_config,
    simulator_ids,
    simulator_source,
    source_state,
    stored_ids,
    stored_state,
    threshold_rule,
)

pytestmark = pytest.mark.postgres
OUTAGE_SECONDS = 30


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _pg(action: str) -> None:
    subprocess.run([*_cluster(), action], check=True, capture_output=True, timeout=120)


def _reachable() -> bool:
    probe = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
    try:
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        probe.dispose()


@pytest.fixture
def restartable_postgres():
    if not Path("/etc/postgresql").is_dir():
        pytest.skip("no local PostgreSQL cluster to stop and start (pg_ctlcluster)")
    yield
    if not _reachable():
        _pg("start")
    wait_for(_reachable, 60, "PostgreSQL to accept connections again")


def test_worker_survives_a_postgres_outage(restartable_postgres, postgres_engine, tmp_path):
    engine, url = postgres_engine, url_of(postgres_engine)
    sim = simulator_source(rate_per_day=20000, backfill_hours=1, interval_seconds=5)
    config_dir = radar_config(tmp_path / "config", [sim], rules=[threshold_rule(6)])
    worker = WorkerProcess(url, config_dir, tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: (s := source_state(engine, "sim")) and s.cursor, 90, "first collection")
        time.sleep(6)
        engine.dispose()
        log_before = len(worker.log_text())
        stopped_at = time.monotonic()
        try:
            _pg("stop")
            time.sleep(OUTAGE_SECONDS)
            assert worker.alive, "the worker must ride out the outage"
        finally:
            _pg("start")
        wait_for(_reachable, 60, "PostgreSQL back")
        outage_log = worker.log_text()[log_before:]
        outage = time.monotonic() - stopped_at

        def caught_up() -> bool:
            state = stored_state(engine, "sim")
            until = datetime.fromisoformat(json.loads(state.cursor)["until"])
            return (
                until >= datetime.now(UTC) - timedelta(minutes=1)
                and state.consecutive_failures == 0
            )

        wait_for(caught_up, 90, "the worker to catch up")
        time.sleep(6)
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()

    lines = [line for line in outage_log.splitlines() if line.strip()]
    problems = [line for line in lines if " WARNING " in line or " ERROR " in line]
    print(f"outage {outage:.0f} s: {len(lines)} log lines, {len(problems)} warnings/errors")
    print("\n".join(problems[:8]))
    assert problems, "the outage is logged"
    assert "Traceback" not in outage_log, outage_log[:4000]
    # One line per failed job run (collect every 5 s, evaluate 5 s, notify 15 s, heartbeat 10 s),
    # with slack: no flood of stack frames or retries.
    assert len(lines) <= 4 * (outage / 5 + 4), outage_log[:4000]
    state = stored_state(engine, "sim")
    expected = simulator_ids(sim, state.cursor)
    stored = stored_ids(engine, "sim")
    assert len(stored) == len(set(stored)) and set(stored) == expected
    assert_counts_match_records(engine, "sim")
    assert_alerts_consistent(engine)
