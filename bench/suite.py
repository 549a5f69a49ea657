"""The benchmarks by name; each returns its figures and runs inside its own process."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.databases import CACHE_DIR, postgres_reason, scratch_postgres, scratch_sqlite
from bench.figures import Figure
from bench.history import HistorySpec


@dataclass(frozen=True)
class Options:
    quick: bool = False

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full


class Skipped(Exception):
    """The benchmark cannot run here (no PostgreSQL, feature not built yet); the reason is printed."""


def _ingest(kind: str, options: Options) -> list[Figure]:
    from bench.ingest import measure, measure_floor, measure_workers, plain_figure, stretch_figure
    from bench.records import raw_records

    floor = "Rows alone into complaints (the path's insert; no normalising, counts, flags) →"
    plain = "Raw executemany into a table without indexes →"
    stretch = "Customer-key stretch (PBKDF2) →"
    records = raw_records(options.size(100_000, 5_000))
    if kind == "postgres":
        reason = postgres_reason()
        if reason:
            raise Skipped(f"PostgreSQL unavailable: {reason}")
        path = measure("ingest-postgres", "Ingest → PostgreSQL", scratch_postgres, records, 5_000)
        return [
            path,
            plain_figure("ingest-postgres-plain", f"{plain} PostgreSQL", path),
            stretch_figure("ingest-postgres-stretch", f"{stretch} PostgreSQL", path, records),
            measure_floor(
                "ingest-postgres-floor", f"{floor} PostgreSQL", scratch_postgres, records
            ),
            measure_workers(
                "ingest-postgres-2-workers",
                "Ingest → PostgreSQL, 2 collector workers (one source each, records split)",
                scratch_postgres,
                len(records),
                2,
                5_000,
            ),
        ]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=CACHE_DIR))
    try:
        make = partial(scratch_sqlite, folder)
        path = measure("ingest-sqlite", "Ingest → SQLite", make, records, 5_000)
        return [
            path,
            plain_figure("ingest-sqlite-plain", f"{plain} SQLite", path),
            stretch_figure("ingest-sqlite-stretch", f"{stretch} SQLite", path, records),
            measure_floor("ingest-sqlite-floor", f"{floor} SQLite", make, records),
        ]
    finally:
        folder.rmdir()


# 3M complaints over one year and 1M over the same last 122 days: same active series.
def _history_specs(options: Options) -> dict[str, HistorySpec]:
    if options.quick:
        return {"small": HistorySpec(products=300, days=10, per_day=2000, label="quick")}
    return {
        "1m": HistorySpec(products=10_000, days=122, per_day=8_220, label="full"),
        "3m": HistorySpec(products=10_000, days=365, per_day=8_220, label="full"),
    }


def _tick(kind: str, options: Options) -> list[Figure]:
    from bench.history import postgres_history, sqlite_history
    from bench.tick import measure

    if kind == "postgres" and (reason := postgres_reason()):
        raise Skipped(f"PostgreSQL unavailable: {reason}")
    figures = []
    for size, spec in _history_specs(options).items():
        engine = postgres_history(spec) if kind == "postgres" else sqlite_history(spec)
        label = f"Evaluation tick, {kind}, ~{spec.total:,} complaints / {spec.days} days"
        try:
            figures.append(measure(f"tick-{kind}-{size}", label, engine, spec, ticks=5))
        finally:
            engine.dispose()
    return figures


def _backtest(options: Options) -> list[Figure]:
    from bench.backtest import measure

    figures = [measure(1, 10.0)]
    if not options.quick:
        figures.append(measure(10, 60.0))
    return figures


def _dashboard(kind: str, options: Options) -> list[Figure]:
    from bench.dashboard import (
        closed_cycle_name,
        forget_default_cycle,
        freeze_default_cycle,
        monthly_cycle_figures,
        render_figure,
    )
    from bench.history import postgres_history, sqlite_history

    if kind == "postgres" and (reason := postgres_reason()):
        raise Skipped(f"PostgreSQL unavailable: {reason}")
    spec = list(_history_specs(options).values())[-1]
    engine = postgres_history(spec) if kind == "postgres" else sqlite_history(spec)
    try:
        forget_default_cycle(engine)
        figures = [
            render_figure(engine, "wall", f"Wall screen ({kind})", spec.total),
            render_figure(engine, "weekly", f"Weekly report ({kind})", spec.total),
            render_figure(engine, "monthly", f"Monthly report, counted live ({kind})", spec.total),
        ]
        freeze_default_cycle(engine)  # as the worker does every 5 minutes
        figures += [
            render_figure(
                engine,
                "monthly",
                f"Monthly report, from the worker's snapshot ({kind})",
                spec.total,
                suffix="-snapshot",
            ),
            *monthly_cycle_figures(engine, f"Monthly report ({kind})"),
            render_figure(
                engine,
                "monthly",
                f"Monthly report, closed cycle picked ({kind})",
                spec.total,
                pick=closed_cycle_name(engine),
            ),
        ]
        for figure in figures:
            figure.name += f"-{kind}"
        return figures
    finally:
        engine.dispose()


def _dashboard_memory(options: Options) -> list[Figure]:
    from bench.dashboard import memory_over_refreshes
    from bench.history import sqlite_history

    engine = sqlite_history(list(_history_specs(options).values())[-1])
    try:
        return [memory_over_refreshes(engine, options.size(500, 20))]
    finally:
        engine.dispose()


def _first_screen(options: Options) -> list[Figure]:
    """Every page in a real browser on the large history (SQLite): ≤ 2 s to its main content."""
    from bench.dashboard import first_screen_figures, freeze_default_cycle
    from bench.history import sqlite_history

    spec = list(_history_specs(options).values())[-1]
    engine = sqlite_history(spec)
    try:
        freeze_default_cycle(engine)  # as the worker does every 5 minutes
        return first_screen_figures(engine, spec.total, options.size(3, 1))
    finally:
        engine.dispose()


def _latency(options: Options) -> list[Figure]:
    from bench.latency import measure

    return [measure(options.size(3, 1))]


BENCHMARKS: dict[str, Callable[[Options], list[Figure]]] = {
    "ingest-sqlite": partial(_ingest, "sqlite"),
    "ingest-postgres": partial(_ingest, "postgres"),
    "tick-sqlite": partial(_tick, "sqlite"),
    "tick-postgres": partial(_tick, "postgres"),
    "backtest": _backtest,
    "dashboard-sqlite": partial(_dashboard, "sqlite"),
    "dashboard-postgres": partial(_dashboard, "postgres"),
    "dashboard-memory": _dashboard_memory,
    "first-screen": _first_screen,
    "latency": _latency,
}


def select_benchmarks(only: str | None) -> list[str]:
    """Names matching ``--only`` (comma-separated prefixes: ``ingest`` selects both ingests)."""
    if not only:
        return list(BENCHMARKS)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = [name for name in BENCHMARKS if any(name.startswith(w) for w in wanted)]
    unknown = [w for w in wanted if not any(name.startswith(w) for name in BENCHMARKS)]
    if unknown:
        raise ValueError(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    return chosen
