"""A signed-in wall stops showing data when the session expires, in a real browser (issue 19 item 9).

The wall refreshes inside ``st.fragment(run_every=…)``, whose reruns skip the app script that
checks the sign-in. With ``RADAR_SESSION_MINUTES=1`` the wall must fall back to the sign-in page
by itself (nobody touches the page) soon after the minute is over.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT
from dashboard.auth import hash_password
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from tests.dashboard.seed import complaint, ingest
from tests.e2e.conftest import CHROMIUM, browser, free_port, page, wait_until_serving

__all__ = ["browser", "page"]


@pytest.fixture
def short_session_app(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; ./test.sh installs it with apt")
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC)
    ingest(engine, [complaint(i, now - timedelta(minutes=5 + i)) for i in range(5)])
    engine.dispose()
    users = tmp_path / "users.yaml"
    users.write_text(
        "users:\n  - {username: ceo, name: 总经理, role: executive, "
        f"password_hash: '{hash_password('ceo-pw-1')}'}}\n",
        encoding="utf-8",
    )
    log = tmp_path / "dashboard.log"
    port = free_port()
    env = {**os.environ, "RADAR_DATABASE_URL": url, "RADAR_AUTH": "password",
           "RADAR_USERS_FILE": str(users), "RADAR_SESSION_MINUTES": "1",
           "RADAR_WALL_REFRESH_SECONDS": "2"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_wall_returns_to_sign_in_when_the_session_expires(short_session_app, page):
    base, log = short_session_app
    page.goto(base, wait_until="domcontentloaded")
    page.get_by_label("用户名").fill("ceo")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码错误").wait_for(timeout=30_000)
    # The failed sign-in is in the dashboard's log, as a record of its own.
    assert "WARNING radar.signin: failed sign-in for 'ceo' from " in log.read_text()
    page.get_by_label("用户名").fill("ceo")
    page.get_by_label("密码").fill("ceo-pw-1")
    page.get_by_role("button", name="登录").click()
    signed_in = time.monotonic()
    page.get_by_text("今日投诉").first.wait_for(timeout=30_000)
    page.wait_for_timeout(20_000)  # the wall refreshes while the session is valid
    assert page.get_by_text("今日投诉").count() > 0
    assert page.get_by_label("密码").count() == 0
    # Nobody touches the page: only the fragment's own reruns can notice the expiry.
    page.get_by_label("密码").wait_for(timeout=60_000)
    assert time.monotonic() - signed_in >= 55
    assert page.get_by_text("今日投诉").count() == 0
