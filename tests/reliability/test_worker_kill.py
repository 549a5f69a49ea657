"""SIGKILL the real worker mid-collection, mid-evaluation and mid-send; restart; nothing lost or doubled.

The worker runs as ``python manage.py worker`` against a SQLite file or a PostgreSQL schema.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from alerts.notify.dispatch import deliver_due
from alerts.notify.registry import build_channel
from config.loader import load_config
from storage.db import make_engine, make_session_factory
from storage.models import Notification
from tests.conftest import POSTGRES_URL
from tests.reliability.helpers import WebhookReceiver, WorkerProcess, wait_for
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


def _count_alerts(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("select count(*) from alerts")).scalar()


def _caught_up(engine, source_config) -> bool:
    state = source_state(engine, "sim")
    if state is None or not state.cursor:
        return False
    until = datetime.fromisoformat(json.loads(state.cursor)["until"])
    return until >= datetime.now(UTC) - timedelta(minutes=2)


def test_kill_mid_collection_then_restart_stores_every_complaint_once(
    engine, watcher, db_url, tmp_path
):
    # Six days of backfill at 12,000 a day: one batch per day, each its own transaction.
    sim = simulator_source(rate_per_day=12000, backfill_hours=144, interval_seconds=5)
    config_dir = radar_config(tmp_path / "config", [sim], rules=[threshold_rule(40)])
    worker = WorkerProcess(db_url, config_dir, tmp_path / "worker.log")
    try:
        worker.start()
        # The first day's batch is committed: the kill lands inside the backfill. The poll must
        # not wait behind the worker's writes, or the backfill can end before it returns.
        first_cursor = lambda: (s := source_state(watcher, "sim")) and s.cursor  # noqa: E731
        wait_for(first_cursor, 120, "first batch", every=0.05)
        worker.kill()
        state = stored_state(engine, "sim")
        assert not _caught_up(engine, sim), "the kill should land before the backfill ends"
        killed_cursor = state.cursor
        assert_counts_match_records(engine, "sim")

        worker.start()
        wait_for(lambda: _caught_up(watcher, sim), 480, "backfill to finish after restart")
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()

    state = stored_state(engine, "sim")
    assert json.loads(state.cursor)["anchor"] == json.loads(killed_cursor)["anchor"]
    expected = simulator_ids(sim, state.cursor)
    stored = stored_ids(engine, "sim")
    assert len(stored) == len(set(stored))
    assert set(stored) == expected, (
        f"missing {len(expected - set(stored))}, unexpected {len(set(stored) - expected)}"
    )
    assert len(expected) > 30_000
    assert_counts_match_records(engine, "sim")
    assert_alerts_consistent(engine)
    assert "Traceback" not in worker.log_text()


@pytest.mark.postgres
def test_kill_mid_evaluation_leaves_no_half_written_alerts(tmp_path, postgres_engine):
    """On PostgreSQL the test sees the worker's open transaction and kills while alerts are written."""
    from tests.reliability.conftest import url_of

    engine, url = postgres_engine, url_of(postgres_engine)
    app = f"radar-kill-{uuid.uuid4().hex[:8]}"
    sim = simulator_source(rate_per_day=30000, backfill_hours=2, interval_seconds=3600)
    rules = [threshold_rule(3), {**threshold_rule(2), "name": "region-product", "group_by": ["product_code", "region"]}]  # fmt: skip
    config_dir = radar_config(tmp_path / "config", [sim], rules=rules)
    worker = WorkerProcess(url, config_dir, tmp_path / "worker.log", env={"PGAPPNAME": app})
    admin = create_engine(POSTGRES_URL)
    probe = text(
        "select query from pg_stat_activity where application_name = :app "
        "and state in ('active', 'idle in transaction') and query ilike 'INSERT INTO alert%'"
    )
    try:
        worker.start()
        deadline = time.monotonic() + 120
        caught = None
        with admin.connect() as conn:
            while caught is None and time.monotonic() < deadline and worker.alive:
                caught = conn.execute(probe, {"app": app}).scalar()
                conn.commit()
        assert caught, "never saw the worker writing alerts"
        os.kill(worker.popen.pid, signal.SIGKILL)
        worker.popen.wait(timeout=30)
        assert _count_alerts(engine) == 0, "an evaluation killed mid-way must leave nothing behind"

        worker.start()
        wait_for(lambda: _count_alerts(engine), 120, "alerts after restart")
        time.sleep(6)  # at least one more evaluation tick over the same data
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()
        admin.dispose()
    assert_alerts_consistent(engine)
    with Session(engine) as session:
        fingerprints = session.execute(
            text("select count(distinct fingerprint) from alerts")
        ).scalar_one()
        total = session.execute(text("select count(*) from alerts")).scalar_one()
    assert total == fingerprints > 5
    assert_counts_match_records(engine, "sim")


def test_kill_mid_send_delivers_each_alert_once(engine, db_url, tmp_path, monkeypatch):
    """The webhook answers slowly; the worker dies while a message is in flight. After restart
    the same message goes again with the same idempotency key (the receiver drops it), never as
    a second, different message."""
    receiver = WebhookReceiver(delay=4.0)
    hook_url = f"{receiver.base}/hook?key=T0PSECRET-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("RADAR_TEST_HOOK_URL", hook_url)
    sim = simulator_source(rate_per_day=6000, backfill_hours=1, interval_seconds=5)
    channels = [{"name": "hook", "kind": "webhook", "url_env": "RADAR_TEST_HOOK_URL", "retries": 1}]
    config_dir = radar_config(
        tmp_path / "config", [sim], rules=[threshold_rule(3)], channels=channels,
        default_channel="hook",
    )  # fmt: skip
    worker = WorkerProcess(db_url, config_dir, tmp_path / "worker.log")
    try:
        worker.start()
        assert receiver.received.wait(120), worker.log_text()[-3000:]
        worker.kill()  # the handler is still sleeping: the send is in flight
        with Session(engine) as session:
            in_flight = session.scalars(
                select(Notification).where(Notification.status == "sending")
            ).all()
        assert in_flight, "the kill should leave the batch marked as sending"
        first_keys = set(receiver.receipts())

        receiver.delay = 0.0
        worker.start()  # within the lease: planned again as a no-op, nothing resent yet
        time.sleep(12)
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()

    # Six minutes later (the lease is five): the interrupted batch is resent with its key.
    config = load_config(config_dir)
    channels_by_name = {c.name: build_channel(c) for c in config.channels.channels}
    later = datetime.now(UTC) + timedelta(minutes=6)
    deliver_due(make_session_factory(make_engine(db_url)), channels_by_name, config, later)

    receipts = receiver.receipts()
    assert first_keys <= set(receipts)
    resent = [k for k in first_keys if receipts[k] > 1]
    assert resent, "the interrupted message is sent again with the same key"
    for (alert_id, state), keys in receiver.alert_keys().items():
        assert len(keys) == 1, (
            f"alert {alert_id} ({state}) reached the receiver in {len(keys)} messages"
        )
    with Session(engine) as session:
        statuses = set(session.scalars(select(Notification.status)))
    assert statuses == {"sent"}, statuses
    assert_alerts_consistent(engine)
    receiver.close()
