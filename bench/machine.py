"""The machine the figures were measured on: they mean nothing without it."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def describe(postgres_version: str = "") -> str:
    """One line: date, CPUs, RAM, CPU model, Python, SQLite and PostgreSQL versions."""
    parts = [
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        f"{os.cpu_count()} CPUs ({cpu_model()})",
        f"{ram_gb():.0f} GB RAM",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        f"load average {os.getloadavg()[0]:.1f} (shared machine)",
    ]
    if postgres_version:
        parts.append(f"PostgreSQL {postgres_version}")
    return ", ".join(parts)


def host_speed() -> str:
    """Two fixed workloads, best of three: figures from different days compare only beside them.

    This VM's speed moved by ±20 % within minutes and by a factor of 2–3 between sessions
    (docs/PERFORMANCE.md, "Host speed"); every figure here moves with it.
    """
    python, inserts = [], []
    rows = [(i, f"row {i}") for i in range(100_000)]
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        python.append(2_000_000 / (time.perf_counter() - started))
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        started = time.perf_counter()
        connection.executemany("INSERT INTO t VALUES (?, ?)", rows)
        inserts.append(len(rows) / (time.perf_counter() - started))
        connection.close()
    return (
        f"host speed: Python {max(python) / 1e6:.1f} M loop steps/s, "
        f"SQLite {max(inserts) / 1e3:,.0f}k in-memory inserts/s"
    )
