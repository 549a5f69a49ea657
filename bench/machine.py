"""The machine the figures were measured on: they mean nothing without it."""

from __future__ import annotations

import os
import platform
import sqlite3
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
