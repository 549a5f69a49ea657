"""Hostile input on the dashboard, in a real browser, and a database that is not there.

Complaint texts and product fields carrying HTML/JS/Markdown must be shown as text and never run
(headless Debian chromium via Playwright); query parameters carrying SQL must do nothing; with
the database unreachable every page shows a clear notice instead of a stack trace.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from config.settings import PROJECT_ROOT, get_settings
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Alert, Complaint
from tests.dashboard.seed import complaint, ingest, run_rules

if TYPE_CHECKING:
    from playwright.sync_api import Dialog
from tests.e2e.conftest import CHROMIUM, browser, free_port, page, wait_until_serving
from tests.reliability.helpers import free_port as closed_port

__all__ = ["browser", "page"]  # fixtures shared with tests/e2e

PAYLOADS = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "[点我领取理赔款](javascript:window.__pwned=3)",
    "<svg/onload=window.__pwned=4>",
    '"><iframe src="javascript:window.__pwned=5"></iframe>',
    "**加粗** <b>粗体</b> `code` <style>body{display:none}</style>",
]
HOSTILE_CODE = "<img src=x onerror=window.__pwned=6>"
INJECTIONS = [
    "1 OR 1=1",
    "1; DROP TABLE complaints; --",
    "' OR '1'='1",
    "1) UNION SELECT password FROM users --",
]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; ./test.sh installs it with apt")
    db = tmp_path_factory.mktemp("hostile") / "radar.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC)
    rows = [
        complaint(
            i, now - timedelta(minutes=25) + timedelta(minutes=2 * i),
            channel=["hotline", "web", "social"][i % 3], product_code=HOSTILE_CODE,
            product_name=PAYLOADS[(i + 1) % len(PAYLOADS)], region="广东",
            event_tag=PAYLOADS[(i + 2) % len(PAYLOADS)], text=PAYLOADS[i % len(PAYLOADS)],
        )
        for i in range(12)
    ]  # fmt: skip
    ingest(engine, rows)
    run_rules(engine, now)
    port = free_port()
    env = {**os.environ, "RADAR_DATABASE_URL": url, "RADAR_AUTH": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base, engine
    finally:
        process.terminate()
        process.wait(timeout=20)
        engine.dispose()


def _visit(page, url: str) -> list[str]:
    """Open a page, let it render, and return any dialogs it tried to open."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMain"]', timeout=30_000)
    page.wait_for_timeout(4000)
    return dialogs


def test_html_and_script_in_complaints_never_run(hostile_app, page):
    base, engine = hostile_app
    with Session(engine) as session:
        alert_id = session.scalar(select(Alert.id))
    assert alert_id, "the hostile complaints form an alert"
    for path in [
        "/",
        "/alerts",
        f"/alerts?alert={alert_id}",
        "/ledger",
        "/sources",
        "/weekly",
        "/monthly",
    ]:
        dialogs = _visit(page, base + path)
        assert dialogs == [], (path, dialogs)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("img[src='x'], svg[onload], iframe[src^='javascript']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0, path
        assert page.locator("[data-testid='stException']").count() == 0, path
    # On the alert's own page the hostile product code is shown, as text.
    _visit(page, f"{base}/alerts?alert={alert_id}")
    assert page.get_by_text(HOSTILE_CODE, exact=False).count() > 0


def test_sql_in_query_parameters_does_nothing(hostile_app, page):
    base, engine = hostile_app

    def snapshot() -> tuple:
        with Session(engine) as session:
            return (
                session.scalar(select(func.count()).select_from(Complaint)),
                tuple(session.scalars(select(Alert.state).order_by(Alert.id))),
            )

    before = snapshot()
    for text in INJECTIONS:
        for path in (f"/alerts?alert={quote(text)}", f"/alerts?ack={quote(text)}", f"/?page={quote(text)}"):  # fmt: skip
            assert _visit(page, base + path) == []
            assert page.locator("[data-testid='stException']").count() == 0, path
    assert snapshot() == before
    assert "acknowledged" not in before[1]


PASSWORD = "dashPassw0rd4Zx"


@pytest.mark.parametrize("name", ["wall", "alerts", "ledger", "sources", "weekly", "monthly"])
def test_database_unavailable_is_a_clear_notice_not_a_stack_trace(name, monkeypatch):
    url = f"postgresql+psycopg://radar:{PASSWORD}@127.0.0.1:{closed_port()}/radar"
    monkeypatch.setenv("RADAR_DATABASE_URL", url)
    monkeypatch.setenv("RADAR_AUTH", "off")
    get_settings.cache_clear()
    try:
        app = AppTest.from_string(
            f"from dashboard.pages import {name}\n{name}.render()\n", default_timeout=60
        ).run()
    finally:
        get_settings.cache_clear()
    assert not app.exception, [e.message for e in app.exception]
    notices = [e.body for e in app.error]
    assert any("数据库暂时不可用" in n for n in notices), notices
    shown = " ".join(str(getattr(e, "body", "") or getattr(e, "value", "")) for e in app.main)
    assert PASSWORD not in shown and PASSWORD not in " ".join(notices)
