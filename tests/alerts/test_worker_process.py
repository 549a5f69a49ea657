"""The worker process as started by ``manage.py worker``: its own process-wide settings."""

from __future__ import annotations

from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import radar_config


def test_the_worker_switches_threads_every_millisecond(tmp_path):
    """A PostgreSQL store's round trips wait for the GIL while a helper thread normalises: the
    worker shortens the switch interval from Python's 5 ms (alerts.worker)."""
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    worker = WorkerProcess(url, radar_config(tmp_path / "config", []), tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: "starting with" in worker.log_text(), 60, "the worker to start")
    finally:
        worker.stop()
    assert "starting with 0 sources (threads switch every 1 ms)" in worker.log_text()
