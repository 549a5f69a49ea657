"""One evaluation tick of every configured rule over a large history, as the worker runs it.

The first tick fits the baselines (once a day in the worker); the figure is the median of the
ticks after it, each 30 s of clock later, each committed. Alerts written by the ticks are deleted
afterwards so the cached database stays as generated.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from sqlalchemy import Engine, func, select, text

from alerts.state.engine import evaluate
from bench.figures import Figure
from bench.history import END, HistorySpec
from config.loader import load_config
from config.settings import get_settings
from storage.db import make_session_factory
from storage.models import Complaint, ComplaintCount


def active_series(engine: Engine, hours: int = 24) -> int:
    """Product × province pairs with complaints in the last ``hours``: what a tick has to look at."""
    since = END - timedelta(hours=hours)
    with make_session_factory(engine)() as session:
        pairs = (
            select(ComplaintCount.product_code, ComplaintCount.region)
            .where(ComplaintCount.bucket_start >= since)
            .distinct()
            .subquery()
        )
        return int(session.scalar(select(func.count()).select_from(pairs)) or 0)


def stored_complaints(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Complaint)) or 0)


def clear_alerts(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("notifications", "alert_events", "alerts"):
            conn.execute(text(f"DELETE FROM {table}"))


def run_ticks(engine: Engine, ticks: int) -> tuple[float, list[float], int, list[str]]:
    """(cold seconds, warm seconds per tick, alert changes, failed rules)."""
    config = load_config(get_settings().config_dir)
    factory = make_session_factory(engine)
    clear_alerts(engine)
    timings: list[float] = []
    changes = 0
    failed: set[str] = set()
    try:
        for i in range(ticks + 1):
            now = END + timedelta(seconds=30 * i)
            started = time.perf_counter()
            with factory() as session:
                result = evaluate(session, config.rules, now, config.sources)
                session.commit()
            timings.append(time.perf_counter() - started)
            changes += len(result.changes)
            failed.update(result.failed_rules)
    finally:
        clear_alerts(engine)
    return timings[0], timings[1:], changes, sorted(failed)


def measure(name: str, label: str, engine: Engine, spec: HistorySpec, ticks: int) -> Figure:
    cold, warm, changes, failed = run_ticks(engine, ticks)
    config = load_config(get_settings().config_dir)
    return Figure(
        name=name,
        label=label + (f" (FAILED RULES: {', '.join(failed)})" if failed else ""),
        value=statistics.median(warm),
        unit="s/tick",
        target=1.0,
        higher_is_better=False,
        details={
            "complaints": stored_complaints(engine),
            "days": spec.days,
            "products": spec.products,
            "active_series_24h": active_series(engine),
            "rules": [r.name for r in config.rules.rules if r.enabled],
            "cold_tick_s": round(cold, 3),
            "warm_ticks_s": [round(t, 3) for t in warm],
            "alert_changes": changes,
            "failed_rules": failed,
        },
    )
