"""Soak run: the simulator at 10× its normal rate, the worker and the dashboard (with a real
browser keeping the wall screen open), for a configurable time; reports errors, memory over time
and whether every complaint is accounted for.

    .venv/bin/python bench/soak.py --minutes 60 [--out soak.json] [--database-url URL]

Not a test: it takes as long as you ask. Figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from collectors.simulator import SimulatorCollector  # noqa: E402
from config.models import SimulatorSource  # noqa: E402
from storage.db import make_engine, redact_url  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Complaint, ComplaintCount, QuarantinedRecord, SourceState  # noqa: E402

NORMAL_RATE_PER_DAY = 800


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, rate_per_day: float) -> dict[str, Any]:
    """The shipped configuration, with the simulator sped up."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("rules.yaml", "roster.yaml", "channels.yaml", "routes.yaml"):
        shutil.copy(ROOT / "config" / name, folder / name)
    source = {
        "name": "simulator",
        "kind": "simulator",
        "interval_seconds": 15,
        "rate_per_day": rate_per_day,
        "backfill_hours": 6,
        "event_every_minutes": 20,
        "first_event_after_minutes": 1,
        "silent_after_minutes": 10,
    }
    (folder / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [source]}, allow_unicode=True), encoding="utf-8"
    )
    return source


def expected_ids(source: dict[str, Any], cursor: str) -> set[str]:
    """Every id the simulator delivered up to its cursor, generated again independently."""
    state = json.loads(cursor)
    anchor, until = datetime.fromisoformat(state["anchor"]), datetime.fromisoformat(state["until"])
    config = SimulatorSource.model_validate(source)
    collector = SimulatorCollector(config)
    position = json.dumps(
        {
            "anchor": anchor.isoformat(),
            "until": (anchor - timedelta(hours=config.backfill_hours)).isoformat(),
        }
    )
    ids: set[str] = set()
    while True:
        batch = collector.fetch(position, until)
        ids.update(r["id"] for r in batch.records)
        position = batch.cursor
        if not batch.has_more:
            return ids


def count_problems(text: str) -> dict[str, int]:
    return {
        "errors": sum(1 for line in text.splitlines() if " ERROR " in line),
        "tracebacks": text.count("Traceback"),
    }


def open_browser(port: int):
    """A headless chromium on the wall screen, so its fragments keep refreshing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, None
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60_000)
    return playwright, (browser, page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--factor", type=float, default=10.0, help="times the normal rate")
    parser.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    parser.add_argument("--sample-seconds", type=float, default=30.0)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="radar-soak-"))
    url = args.database_url or f"sqlite:///{work / 'radar.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    source = write_config(work / "config", NORMAL_RATE_PER_DAY * args.factor)
    port = free_port()
    env = {
        **os.environ,
        "RADAR_DATABASE_URL": url,
        "RADAR_CONFIG_DIR": str(work / "config"),
        "RADAR_AUTH": "off",
        "PYTHONUNBUFFERED": "1",
    }
    worker_log, dash_log = work / "worker.log", work / "dashboard.log"
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker"],
        env=env, cwd=ROOT, stdout=worker_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false",
         # Production does not edit code under a running app; a reload mid-run re-imports
         # dashboard modules and their cached dataclasses stop pickling (see RELIABILITY.md).
         "--server.fileWatcherType", "none"],
        env=env, cwd=ROOT, stdout=dash_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    print(f"soak: {args.minutes:g} min, simulator ×{args.factor:g}, {redact_url(url)}, work {work}")
    samples: list[dict[str, Any]] = []
    playwright = browser = None
    started = time.monotonic()
    crashed: list[str] = []
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        playwright, browser = open_browser(port)
        end = started + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(args.sample_seconds, max(end - time.monotonic(), 0)))
            for name, process in (("worker", worker), ("dashboard", dashboard)):
                if process.poll() is not None and name not in crashed:
                    crashed.append(name)
            with Session(engine) as session:
                stored = session.scalar(select(func.count()).select_from(Complaint))
            sample = {
                "minute": round((time.monotonic() - started) / 60, 1),
                "worker_mb": round(rss_mb(worker.pid), 1),
                "dashboard_mb": round(rss_mb(dashboard.pid), 1),
                "complaints": stored,
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            if crashed:
                break
    finally:
        if browser is not None:
            assert playwright is not None  # open_browser returns both or neither
            browser[0].close()
            playwright.stop()
        for process in (worker, dashboard):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (worker, dashboard):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    with Session(engine) as session:
        state = session.get(SourceState, "simulator")
        stored_ids = list(session.scalars(select(Complaint.external_id)))
        counted = session.scalar(select(func.coalesce(func.sum(ComplaintCount.count), 0)))
        quarantined = session.scalar(select(func.count()).select_from(QuarantinedRecord))
    assert state is not None and counted is not None  # the simulator source ran; coalesce
    expected = expected_ids(source, state.cursor)
    worker_problems = count_problems(worker_log.read_text(errors="replace"))
    dash_problems = count_problems(dash_log.read_text(errors="replace"))
    first, last = samples[0] if samples else {}, samples[-1] if samples else {}
    report = {
        "minutes": round((time.monotonic() - started) / 60, 1),
        "rate_per_day": source["rate_per_day"],
        "complaints_expected": len(expected),
        "complaints_stored": len(stored_ids),
        "lost": len(expected - set(stored_ids)),
        "unexpected": len(set(stored_ids) - expected),
        "duplicates": len(stored_ids) - len(set(stored_ids)) + abs(counted - len(stored_ids)),
        "quarantined": quarantined,
        "worker": worker_problems,
        "dashboard": dash_problems,
        "crashed": crashed,
        "worker_rss_mb": [
            first.get("worker_mb"),
            max(s["worker_mb"] for s in samples) if samples else None,
            last.get("worker_mb"),
        ],
        "dashboard_rss_mb": [
            first.get("dashboard_mb"),
            max(s["dashboard_mb"] for s in samples) if samples else None,
            last.get("dashboard_mb"),
        ],
        "samples": samples,
        "logs": str(work),
    }
    print(
        json.dumps(
            {k: v for k, v in report.items() if k != "samples"}, ensure_ascii=False, indent=2
        )
    )
    if args.out:
        Path(args.out).write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    ok = not crashed and report["lost"] == 0 and report["duplicates"] == 0
    return 0 if ok and not worker_problems["tracebacks"] else 1


if __name__ == "__main__":
    sys.exit(main())
