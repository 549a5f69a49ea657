"""SQLite under load: the worker writes big batches while the dashboard reads and acts.

Readers use the dashboard's read-only engine (deferred transactions under WAL) and must never
see an error; writers on either side (the worker, a dashboard action) wait for the lock
(BEGIN IMMEDIATE + busy timeout) instead of failing with "database is locked".
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from dashboard import queries
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Complaint
from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import (
    assert_counts_match_records,
    radar_config,
    simulator_source,
    source_state,
    stored_state,
    threshold_rule,
)


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Complaint)).scalar()


def test_readers_and_dashboard_writes_survive_heavy_worker_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    writer = make_engine(url)
    upgrade_to_head(writer)
    reader = make_engine(url, read_only=True)
    sim = simulator_source(rate_per_day=20000, backfill_hours=72, interval_seconds=5)
    config_dir = radar_config(tmp_path / "config", [sim], rules=[threshold_rule(30)])
    worker = WorkerProcess(url, config_dir, tmp_path / "worker.log")
    errors: list[str] = []
    reads = {"n": 0}
    writes = {"n": 0}
    stop = threading.Event()

    def read_loop() -> None:
        now = datetime.now(UTC)
        while not stop.is_set():
            try:
                queries.channel_totals(reader, now - timedelta(days=4), now)
                queries.top_products(reader, now - timedelta(hours=6), now)
                queries.ledger(reader, now - timedelta(hours=1), now, limit=200)
                queries.source_states(reader)
                reads["n"] += 1
            except Exception as exc:
                errors.append(f"reader: {type(exc).__name__}: {exc}")

    def action_loop() -> None:
        """Short writes like an acknowledgement, each on the dashboard's write engine."""
        while not stop.is_set():
            try:
                with writer.begin() as conn:
                    conn.execute(
                        text(
                            "insert into silences (matchers, starts_at, ends_at, created_by, comment,"
                            " created_at) values ('{}', :t, :t, 'tester', 'busy test', :t)"
                        ),
                        {"t": datetime.now(UTC).isoformat()},
                    )
                writes["n"] += 1
            except Exception as exc:
                errors.append(f"action: {type(exc).__name__}: {exc}")
            time.sleep(0.2)

    threads = [threading.Thread(target=read_loop), threading.Thread(target=action_loop)]
    try:
        worker.start()
        for thread in threads:
            thread.start()
        wait_for(lambda: _count(reader) > 0, 120, "the first batch")

        # A long reader transaction: a stable snapshot while the worker keeps committing.
        with reader.connect() as conn:
            conn.begin()
            before = conn.execute(select(func.count()).select_from(Complaint)).scalar_one()
            wait_for(lambda: _count(reader) > before, 60, "the worker to commit during the read")
            again = conn.execute(select(func.count()).select_from(Complaint)).scalar()
            assert again == before, "one transaction, one snapshot"
            conn.rollback()

        # A dashboard write transaction holding the write lock for 5 s: the worker waits.
        with writer.begin() as conn:
            conn.execute(text("update source_states set records_last_run = records_last_run"))
            time.sleep(5)

        def caught_up() -> bool:
            state = source_state(reader, "sim")
            if state is None or state.last_received_at is None:
                return False
            return datetime.now(UTC) - state.last_received_at < timedelta(minutes=3)

        wait_for(caught_up, 240, "the backfill to finish")
        time.sleep(6)  # one more scheduled collection after the backfill
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        stop.set()
        if worker.alive:
            worker.kill()

    assert errors == [], errors[:5]
    assert reads["n"] >= 5 and writes["n"] >= 10, (reads, writes)
    state = stored_state(reader, "sim")
    assert state.consecutive_failures == 0 and state.last_error == "", state.last_error
    log = worker.log_text()
    assert "locked" not in log and "Traceback" not in log, log[-3000:]
    assert _count(reader) > 50_000
    assert_counts_match_records(reader, "sim")
    reader.dispose()
    writer.dispose()
