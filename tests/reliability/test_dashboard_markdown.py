"""Markdown in outside strings reaches the page as text, in a real browser (issue 19 item 1).

Product codes, categories and a source's error and note carry links, images, Streamlit colour
directives and bare URLs; the alert console's heading, the wall's banner and 数据源's notices
must show them literally: no link to the attacker, no image fetched from it, no coloured text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import PROJECT_ROOT
from storage.db import make_engine, make_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Alert, SourceState
from tests.dashboard.seed import complaint, ingest, run_rules
from tests.e2e.conftest import CHROMIUM, browser, free_port, page, wait_until_serving
from tests.hostile.corpus import ATTACKER

__all__ = ["browser", "page"]

PRODUCTS = [
    f"[点此一键确认](http://{ATTACKER}/phish)",
    f"![](http://{ATTACKER}/i.png)",
    ":red[**紧急**]",
    f"http://{ATTACKER}/auto",
]
SOURCE_ERROR = f"HTTP 503 [重新登录](http://{ATTACKER}/e) ![](http://{ATTACKER}/e.png) :red[停]"
HANDLER = f"[值班员](http://{ATTACKER}/h) ![](http://{ATTACKER}/h.png)"
SOURCE_NOTE = f"Content-Type: text/**md** [点我](http://{ATTACKER}/n) www.{ATTACKER}/w"


@pytest.fixture(scope="module")
def markdown_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; ./test.sh installs it with apt")
    db = tmp_path_factory.mktemp("markdown") / "radar.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC)
    rows = [
        complaint(
            10 * p + i, now - timedelta(minutes=20) + timedelta(minutes=2 * i),
            product_code=code, product_name=code, category=":blue[**理赔**]",
        )
        for p, code in enumerate(PRODUCTS) for i in range(6)
    ]  # fmt: skip
    ingest(engine, rows)
    run_rules(engine, now)
    with session_scope(make_session_factory(engine)) as session:
        first = session.scalars(select(Alert).order_by(Alert.id)).first()
        assert first is not None
        first.acknowledged_by = HANDLER  # typed by an operator when sign-in is off
        session.add(SourceState(name="web-form", kind="http", last_success_at=now,
                                consecutive_failures=3, last_error=SOURCE_ERROR))  # fmt: skip
        session.add(SourceState(name="drop", kind="csv_folder", last_success_at=now,
                                last_run_at=now, note=SOURCE_NOTE))  # fmt: skip
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


def _visit(page, url: str, requests: list[str]) -> None:
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMain"]', timeout=30_000)
    page.wait_for_timeout(4000)


def _assert_inert(page, path: str) -> None:
    assert page.locator(f"a[href*='{ATTACKER}']").count() == 0, path
    assert page.locator(f"img[src*='{ATTACKER}']").count() == 0, path
    assert page.locator("[data-testid='stException']").count() == 0, path


def test_alert_headings_show_markdown_as_text(markdown_app, page):
    base, engine = markdown_app
    with Session(engine) as session:
        ids = list(session.scalars(select(Alert.id).order_by(Alert.id)))
    assert len(ids) == len(PRODUCTS), "each hostile product fires"
    requests: list[str] = []
    shown: list[str] = []
    for alert_id in ids:
        _visit(page, f"{base}/alerts?alert={alert_id}", requests)
        _assert_inert(page, f"/alerts?alert={alert_id}")
        headings = [h.replace("\u2060", "") for h in page.locator("h3").all_inner_texts()]
        shown.extend(h for h in headings if h.startswith(f"#{alert_id} "))
    for product in PRODUCTS:  # literally, directive and asterisks included: not coloured, not bold
        assert any(product in h for h in shown), (product, shown)
    _visit(page, f"{base}/alerts?alert={ids[0]}", requests)
    assert HANDLER in page.locator("[data-testid='stMain']").inner_text().replace("\u2060", "")
    assert not [r for r in requests if ATTACKER in r]


def test_source_errors_and_notes_show_markdown_as_text(markdown_app, page):
    base, _ = markdown_app
    requests: list[str] = []
    for path in ("/sources", "/"):
        _visit(page, base + path, requests)
        _assert_inert(page, path)
    _visit(page, base + "/sources", requests)
    text = page.locator("[data-testid='stMain']").inner_text().replace("\u2060", "")
    assert SOURCE_ERROR in text
    assert SOURCE_NOTE in text
    assert not [r for r in requests if ATTACKER in r]
