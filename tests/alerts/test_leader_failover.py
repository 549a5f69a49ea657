"""Two real worker processes on PostgreSQL: one leads; kill -9 it and the standby takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from config.settings import PROJECT_ROOT
from storage.db import make_engine, make_session_factory
from storage.models import WorkerHeartbeat
from tests.conftest import POSTGRES_URL
from worker.leader import PostgresAdvisoryLock

pytestmark = pytest.mark.postgres

CONFIG = {
    "sources.yaml": "sources:\n  - {name: sim, kind: simulator, interval_seconds: 5, backfill_hours: 1}\n",
    "rules.yaml": "evaluation_interval_seconds: 5\nrules:\n"
    "  - {name: product-threshold, kind: threshold, threshold: 12}\n",
    "roster.yaml": "people: [{id: duty, name: 值班员}]\ndefault_receiver: duty\n",
    "channels.yaml": "default_channel: log\nchannels: [{name: log, kind: log}]\n",
}


@pytest.fixture
def pg_schema_url(postgres_engine):
    """A database URL whose search_path is the test's own migrated schema."""
    schema = postgres_engine.dialect.default_schema_name
    with postgres_engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def start_worker(url: str, config_dir: Path, name: str, log_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "RADAR_DATABASE_URL": url,
        "RADAR_CONFIG_DIR": str(config_dir),
        "RADAR_WORKER_NAME": name,
    }
    log = (log_dir / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_standby_takes_over_after_kill_9(pg_schema_url, tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for name, body in CONFIG.items():
        (config_dir / name).write_text(body, encoding="utf-8")
    engine = make_engine(pg_schema_url)
    factory = make_session_factory(engine)

    def heartbeat(name: str) -> WorkerHeartbeat | None:
        with factory() as session:
            return session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.name == name))

    def info_of(name: str) -> dict[str, Any]:
        """A worker's heartbeat info, once the test has seen its heartbeat."""
        beat = heartbeat(name)
        assert beat is not None, f"no heartbeat from {name}"
        return beat.info

    first = start_worker(pg_schema_url, config_dir, "worker-a", tmp_path)
    second = None
    try:
        wait_for(lambda: (hb := heartbeat("worker-a")) and hb.info.get("leader"), 60, "a to lead")
        second = start_worker(pg_schema_url, config_dir, "worker-b", tmp_path)
        wait_for(lambda: (hb := heartbeat("worker-b")) and hb.info.get("leader") is False, 60, "b")
        assert "last_evaluation" not in info_of("worker-b")

        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = datetime.now(UTC)
        wait_for(lambda: info_of("worker-b").get("leader"), 60, "b to take over")
        info = info_of("worker-b")
        took = (datetime.fromisoformat(info["leader_since"]) - killed_at).total_seconds()
        wait_for(lambda: info_of("worker-b").get("last_evaluation"), 30, "b to evaluate")
        print(f"standby took over {took:.1f} s after kill -9 (evaluation interval 5 s)")
        # One evaluation interval, with one more of slack for a loaded CI machine.
        assert took <= 2 * 5
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        engine.dispose()
    assert second.returncode == 0, (tmp_path / "worker-b.log").read_text()[-3000:]


def test_only_one_lock_holder_at_a_time(postgres_engine):
    key = int(uuid.uuid4().int % 2**62)
    a, b = PostgresAdvisoryLock(postgres_engine, key), PostgresAdvisoryLock(postgres_engine, key)
    assert a.try_acquire() and not b.try_acquire()
    assert a.try_acquire(), "the holder keeps it across ticks"
    a.release()
    assert b.try_acquire() and not a.try_acquire()
    b.release()


def test_lock_survives_nothing_when_its_connection_dies(postgres_engine):
    key = int(uuid.uuid4().int % 2**62)
    a, b = PostgresAdvisoryLock(postgres_engine, key), PostgresAdvisoryLock(postgres_engine, key)
    assert a.try_acquire()
    assert a.connection is not None  # held by the lock while it is acquired
    pid = a.connection.execute(text("select pg_backend_pid()")).scalar()
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        # with a timeout the call waits until the backend has exited (and its locks are gone);
        # without one it returns once the signal is sent, and b could ask too early
        gone = conn.execute(text("select pg_terminate_backend(:p, 10000)"), {"p": pid}).scalar()
    admin.dispose()
    assert gone, "the backend did not exit within 10 s"
    assert b.try_acquire()
    assert not a.try_acquire(), "a notices it lost the lock"
    b.release()
