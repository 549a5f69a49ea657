"""The README's first command: `manage.py demo` runs worker + dashboard with data and an alert,
and Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from config.settings import PROJECT_ROOT
from domain.states import ACTIVE_ALERT_STATES
from storage.db import make_engine
from storage.models import Alert, Complaint
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_demo_serves_dashboard_with_data_and_an_alert_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "RADAR_DATABASE_URL": db_url, "RADAR_DASHBOARD_PORT": str(port)}
    env.pop("RADAR_CONFIG_DIR", None)  # the shipped configuration, as a newcomer runs it
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), "demo"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    engine = make_engine(db_url, read_only=True)
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
            except httpx.HTTPError:
                return False

        wait_for(healthy, 120, "the dashboard to serve")
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200

        def stored_and_alerting() -> bool:
            try:
                with engine.connect() as conn:
                    complaints = conn.scalar(select(func.count()).select_from(Complaint.__table__))
                    alerts = conn.scalar(
                        select(func.count())
                        .select_from(Alert.__table__)
                        .where(Alert.state.in_([s.value for s in ACTIVE_ALERT_STATES]))
                    )
            except Exception:  # schema not created yet
                return False
            return bool(complaints) and bool(alerts)

        wait_for(stored_and_alerting, 180, "complaints and an active alert")
        # The shipped log channel writes the notification; its links lead to this dashboard.
        wait_for(lambda: "/alerts?ack=" in log_path.read_text(), 120, "the alert's notification")

        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        demo.wait(timeout=30)
        wait_for(lambda: not healthy(), 15, "the dashboard to stop")
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
        engine.dispose()
    output = log_path.read_text()
    assert f"http://localhost:{port}" in output
    assert f"http://localhost:{port}/alerts?ack=" in output
    assert "Traceback" not in output, output[-3000:]
