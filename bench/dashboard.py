"""Dashboard server time per page (AppTest, cold query cache) and Streamlit memory over refreshes.

Render time: the page script run by ``streamlit.testing.v1.AppTest`` against the large history,
with Streamlit's data cache cleared before each run so every query really hits the database.
Memory: a real ``streamlit run`` process, the wall screen reloaded in headless Chromium through
Playwright, resident memory of the Streamlit process read from /proc after each reload.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from bench.figures import Figure
from bench.proc import rss_mb
from config.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("RADAR_BENCH_CHROMIUM", "/usr/bin/chromium")


def _point_at(engine: Engine) -> str:
    from config.settings import get_settings
    from dashboard.settings import dashboard_settings

    url = engine.url.render_as_string(hide_password=False)
    os.environ["RADAR_DATABASE_URL"] = url
    os.environ["RADAR_AUTH"] = "off"
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    return url


def render_seconds(
    engine: Engine, page: str, runs: int = 3, pick: str | None = None
) -> list[float]:
    """Seconds per cold-cache run of one page script; raises if the page raised. ``pick``:
    the value chosen in the page's first select box, timed on the rerun it causes."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _point_at(engine)
    __import__(f"dashboard.pages.{page}")  # imports are not part of a page's render time
    script = f"from dashboard.pages import {page}\n{page}.render()\n"
    timings = []
    for _ in range(runs):
        st.cache_data.clear()
        app = AppTest.from_string(script, default_timeout=120)
        if pick is not None:
            app.run()
            st.cache_data.clear()
            app.selectbox[0].set_value(pick)
        started = time.perf_counter()
        app.run()
        timings.append(time.perf_counter() - started)
        if app.exception:
            raise RuntimeError(f"page {page} raised: {app.exception[0].value}")
    return timings


def render_figure(
    engine: Engine,
    page: str,
    label: str,
    complaints: int,
    pick: str | None = None,
    suffix: str = "",
) -> Figure:
    timings = render_seconds(engine, page, pick=pick)
    return Figure(
        name=f"dashboard-{page}" + ("-closed" if pick else "") + suffix,
        label=f"{label}, {complaints:,} complaints stored (server time, cold cache)",
        value=statistics.median(timings),
        unit="s",
        target=1.0,
        higher_is_better=False,
        details={"runs_s": [round(t, 3) for t in timings]},
    )


def _last_full_cycle(engine: Engine):
    """The last full cycle before the newest complaint, and noon of the newest day."""
    from datetime import UTC, datetime

    from config.rules import AccountabilityConfig
    from dashboard.monthly import cycle_of, previous_cycle
    from dashboard.queries import latest_receipt_day
    from domain.calendar import HolidayCalendar

    calendar, config = HolidayCalendar(), AccountabilityConfig()
    newest = latest_receipt_day(engine, calendar.tz.key) or datetime.now(UTC).date()
    cycle = previous_cycle(cycle_of(newest, config.cycle_start_day), config.cycle_start_day)
    now = datetime(newest.year, newest.month, newest.day, 12, tzinfo=calendar.tz)
    return cycle, now, config, calendar


def _default_cycle(engine: Engine):
    """The cycle the monthly page opens on (the newest complaint's), its rules and calendar."""
    from datetime import UTC, datetime

    from config.rules import AccountabilityConfig
    from dashboard.monthly import cycle_of
    from dashboard.queries import latest_receipt_day
    from domain.calendar import HolidayCalendar

    calendar, config = HolidayCalendar(), AccountabilityConfig()
    newest = latest_receipt_day(engine, calendar.tz.key)
    cycle = cycle_of(newest or calendar.local(datetime.now(UTC)).date(), config.cycle_start_day)
    return cycle, config, calendar


def freeze_default_cycle(engine: Engine) -> None:
    """Write the default cycle's snapshot now, as the worker's monthly job does every 5
    minutes (the page uses an open cycle's for 15)."""
    from datetime import UTC, datetime

    from dashboard.monthly_report import freeze_monthly_report

    cycle, config, calendar = _default_cycle(engine)
    freeze_monthly_report(engine, cycle, config, datetime.now(UTC), calendar=calendar)


def forget_default_cycle(engine: Engine) -> None:
    """Delete the default cycle's snapshot (an earlier run's), so the page counts it live."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from dashboard.monthly_report import snapshot_key
    from storage.models import MonthlySnapshot

    key = snapshot_key(*_default_cycle(engine))
    with Session(engine) as session, session.begin():
        session.execute(delete(MonthlySnapshot).where(MonthlySnapshot.key == key))


def closed_cycle_name(engine: Engine) -> str:
    return _last_full_cycle(engine)[0].name


def monthly_cycle_figures(engine: Engine, label: str, runs: int = 3) -> list[Figure]:
    """Server time of the monthly report of the last full cycle before the newest complaint,
    closed at noon of the newest day: counted from the complaints (what the worker's job does
    once to write the cycle's snapshot), then from the snapshot with overdue decisions counted
    live (what the page shows for a closed cycle, and the report job builds)."""
    from dashboard.monthly_report import build_monthly_report, freeze_monthly_report

    cycle, now, config, calendar = _last_full_cycle(engine)
    freeze_monthly_report(engine, cycle, config, now, calendar=calendar)
    figures = []
    for name, frozen, what in (
        ("dashboard-monthly-cycle-live", False, "counted live (the snapshot's cost)"),
        ("dashboard-monthly-cycle", True, "from its snapshot, overdue live"),
    ):
        timings, received = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            report = build_monthly_report(
                engine, cycle, config, now, calendar=calendar, frozen=frozen
            )
            timings.append(time.perf_counter() - started)
            received = int(report.summary["received"].iloc[-1]) if not report.empty else 0
            if frozen and report.frozen_at is None:
                raise RuntimeError(f"no snapshot of cycle {cycle.name} was used")
        figures.append(
            Figure(
                name=name,
                label=f"{label}: full cycle {cycle.name}, {received:,} complaints, {what}",
                value=statistics.median(timings),
                unit="s",
                target=1.0 if frozen else None,
                higher_is_better=False,
                details={"runs_s": [round(t, 3) for t in timings]},
            )
        )
    return figures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit did not start")


@contextmanager
def _serving(engine: Engine) -> Iterator[tuple[int, subprocess.Popen]]:
    """``streamlit run`` on the engine's database, sign-in off: (port, process); stopped after."""
    url = engine.url.render_as_string(hide_password=False)
    port = _free_port()
    env = dict(os.environ, RADAR_DATABASE_URL=url, RADAR_AUTH="off")
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_http(port, process)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def memory_over_refreshes(engine: Engine, refreshes: int) -> Figure:
    """Growth of Streamlit's RSS after it settles (the first fifth of the reloads), in percent."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(
            f"no browser at {CHROMIUM}: ./bench.sh installs Debian's chromium "
            "(or set RADAR_BENCH_CHROMIUM)"
        )
    samples: list[float] = []
    with _serving(engine) as (port, process), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/?kiosk=1")
        for _ in range(refreshes):
            page.reload()
            page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
            samples.append(rss_mb(process.pid))
        browser.close()
    settle_at = max(1, refreshes // 5)
    settled = samples[settle_at - 1]
    peak_after = max(samples[settle_at - 1 :])
    return Figure(
        name="dashboard-memory",
        label=f"Streamlit RSS growth over {refreshes} wall-screen reloads after settling",
        value=(peak_after / settled - 1) * 100,
        unit="%",
        target=10.0,
        higher_is_better=False,
        peak_mb=max(samples),
        details={
            "settled_mb": round(settled, 1),
            "peak_after_settling_mb": round(peak_after, 1),
            "first_mb": round(samples[0], 1),
            "last_mb": round(samples[-1], 1),
            "settle_reload": settle_at,
        },
    )


# Each page's main content: what a person came to see, not the page's frame.
FIRST_SCREEN = {
    "wall": ("/?kiosk=1", ".st-key-wall_trend .marks, .st-key-wall_trend .radar-panel"),  # trend
    "alerts": ("/alerts", "[data-testid='stMetric'], [data-testid='stAlert']"),  # or: none
    "weekly": ("/weekly", "[data-testid='stMetric']"),
    "monthly": ("/monthly", "[data-testid='stMetric']"),
    "ledger": ("/ledger", "[data-testid='stMetric']"),
    "sources": ("/sources", "[data-testid='stDataFrame'], [data-testid='stAlert']"),
}


# Checked every animation frame: a locator's wait_for polls ever more slowly (every 0.5 s after
# the first few tries), which added up to half a second to a figure (2026-12-04, branch screen2).
SHOWN = """selector => Array.from(document.querySelectorAll(selector)).some(
    e => e.checkVisibility() && e.getBoundingClientRect().height > 0)"""


def first_screen_figures(engine: Engine, complaints: int, runs: int = 3) -> list[Figure]:
    """Seconds from navigation until each page's main content is visible in headless Chromium.

    Two figures a page: a fresh browser context (no cache) per run, as for the first visit ever,
    and a returning browser (a context that has loaded the page once, so Streamlit's and Plotly's
    scripts come from its HTTP cache), as for the duty manager who opened it yesterday. The
    server's query cache is cold on the very first run only."""
    from playwright.sync_api import Browser, sync_playwright

    def timed(browser: Browser, path: str, selector: str, warm: bool) -> float:
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        if warm:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}{path}")
            page.locator(selector).first.wait_for(timeout=60_000)
            page.close()
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}{path}")
        page.wait_for_function(SHOWN, arg=selector, polling="raf", timeout=60_000)
        seconds = time.perf_counter() - started
        context.close()
        return seconds

    figures = []
    with _serving(engine) as (port, _process), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        for name, (path, selector) in FIRST_SCREEN.items():
            for warm, suffix, who in (
                (False, "", "first visit"),
                (True, "-returning", "returning"),
            ):
                timings = [timed(browser, path, selector, warm) for _ in range(runs)]
                figures.append(
                    Figure(
                        name=f"first-screen-{name}{suffix}",
                        label=f"First screen of {path}, {complaints:,} complaints ({who} browser)",
                        value=statistics.median(timings),
                        unit="s",
                        target=2.0,
                        higher_is_better=False,
                        details={"runs_s": [round(t, 2) for t in timings]},
                    )
                )
        browser.close()
    return figures
