"""Databases for benchmarks: a fresh SQLite file or a scratch PostgreSQL schema, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from config.settings import PROJECT_ROOT
from storage import scratch
from storage.db import make_engine

POSTGRES_URL = os.environ.get(
    "RADAR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CACHE_DIR = PROJECT_ROOT / "data" / "bench"


def postgres_reason() -> str | None:
    """None when the benchmark PostgreSQL answers, else why not (the figure is then skipped)."""
    return scratch.postgres_unavailable(POSTGRES_URL)


def postgres_version() -> str:
    if postgres_reason():
        return ""
    probe = create_engine(POSTGRES_URL)
    with probe.connect() as conn:
        version = conn.execute(text("show server_version")).scalar_one()
    probe.dispose()
    return str(version).split()[0]


def schema_engine(schema: str, **kwargs) -> Engine:
    """An engine whose tables live in ``schema`` of the benchmark database (see ``schema_url``)."""
    return make_engine(scratch.schema_url(POSTGRES_URL, schema), **kwargs)


@contextmanager
def scratch_postgres(prefix: str = "bench") -> Iterator[Engine]:
    """A migrated empty schema of its own; dropped afterwards whatever happens."""
    with scratch.scratch_postgres(POSTGRES_URL, prefix) as engine:
        yield engine


@contextmanager
def scratch_sqlite(folder: Path) -> Iterator[Engine]:
    """A migrated SQLite file in ``folder`` (WAL, as in production); removed afterwards."""
    with scratch.scratch_sqlite(folder / f"bench_{uuid.uuid4().hex[:10]}.db") as engine:
        yield engine
