"""A real dashboard: ``streamlit run`` on a free port over a SQLite file seeded by worker ticks,
driven by Playwright in headless Debian chromium (never a downloaded browser)."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import Engine

from config.loader import load_config
from config.models import SimulatorSource, SourcesFile
from config.settings import PROJECT_ROOT
from storage.db import make_engine
from storage.migrate import upgrade_to_head

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


# The wall drawn: its trend (Vega-Lite) and its four HTML panels (the alert table, three rankings).
WALL_DRAWN = (".st-key-wall_trend .marks", ".radar-panel >> nth=3")


def wait_for_wall(page) -> None:
    for selector in WALL_DRAWN:
        page.locator(selector).first.wait_for(timeout=30_000)


def download(page, button, timeout: float = 30_000):
    """The file a download button gives. A button built on click (a callable) can be clicked
    while the page's first run is still going; that click may be lost under load (CI, once), so
    the page is let finish and an unanswered click is made once more."""
    page.locator('[data-testid="stStatusWidgetRunningIcon"]').wait_for(
        state="hidden", timeout=timeout
    )
    try:
        with page.expect_download(timeout=timeout / 2) as info:
            button.click()
    except PlaywrightTimeoutError:  # unanswered: once more
        with page.expect_download(timeout=timeout) as info:
            button.click()
    return info.value


@dataclass
class RunningApp:
    url: str
    engine: Engine
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_through_worker(engine: Engine) -> None:
    """Three hours of simulator history and one surge, through WorkerContext + tick()."""
    from tests.dashboard.seed import complaint, ingest
    from worker.context import WorkerContext
    from worker.main import tick

    config = load_config(PROJECT_ROOT / "config")
    simulator = SimulatorSource(
        name="simulator", kind="simulator", rate_per_day=3000, backfill_hours=3,
        event_every_minutes=600, first_event_after_minutes=600,
    )  # fmt: skip
    config = dataclasses.replace(config, sources=SourcesFile(sources=[simulator]))
    now = datetime.now(UTC)
    ctx = WorkerContext(config=config, engine=engine, clock=lambda: now)
    tick(ctx)
    assert ctx.stats.get("collect:simulator", 0) > 0, f"simulator stored nothing: {ctx.stats}"
    surge = [
        complaint(
            5000 + i, now - timedelta(minutes=20) + timedelta(seconds=50 * i),
            "social", source="e2e-hotline", product_code="E2E-001",
            product_name="端到端测试医疗险", product_line="健康险", region="浙江",
            event_tag="测试群诉", text=f"集体投诉 {i}",
        )
        for i in range(20)
    ]  # fmt: skip
    ingest(engine, surge)
    tick(ctx)


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit did not serve {url} within {timeout}s")


@pytest.fixture(scope="module")
def dashboard_app(tmp_path_factory) -> Iterator[RunningApp]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; ./test.sh installs it with apt")
    db = tmp_path_factory.mktemp("e2e") / "radar.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_through_worker(engine)
    port = free_port()
    env = {
        **os.environ,
        "RADAR_DATABASE_URL": url,
        "RADAR_AUTH": "off",
        "RADAR_WALL_REFRESH_SECONDS": "2",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(port), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    app_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(app_url, process)
        yield RunningApp(app_url, engine, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save under tests/e2e/artifacts/; with RADAR_DOC_SCREENSHOTS=1 also refresh docs/screenshots/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("RADAR_DOC_SCREENSHOTS") == "1":
        docs = PROJECT_ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(docs / f"{name}.png"), full_page=False)
    return path
