"""Databases for benchmarks: a fresh SQLite file or a scratch PostgreSQL schema, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from config.settings import PROJECT_ROOT
from storage.db import make_engine
from storage.migrate import upgrade_to_head

POSTGRES_URL = os.environ.get(
    "RADAR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CACHE_DIR = PROJECT_ROOT / "data" / "bench"


def postgres_reason() -> str | None:
    """None when the benchmark PostgreSQL answers, else why not (the figure is then skipped)."""
    try:
        probe = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
        return None
    except Exception as exc:  # any connection problem means "not available here"
        return f"{type(exc).__name__}: {exc}"[:200]


def postgres_version() -> str:
    if postgres_reason():
        return ""
    probe = create_engine(POSTGRES_URL)
    with probe.connect() as conn:
        version = conn.execute(text("show server_version")).scalar_one()
    probe.dispose()
    return str(version).split()[0]


def schema_engine(schema: str, **kwargs) -> Engine:
    """An engine whose tables live in ``schema`` of the benchmark database.

    The search path is in the URL itself, so processes given ``engine.url`` (the dashboard
    benchmark's Streamlit app) read the same schema, not the database's public one.
    """
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return make_engine(url.render_as_string(hide_password=False), **kwargs)


@contextmanager
def scratch_postgres(prefix: str = "bench") -> Iterator[Engine]:
    """A migrated empty schema of its own; dropped afterwards whatever happens."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = schema_engine(schema)
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def scratch_sqlite(folder: Path) -> Iterator[Engine]:
    """A migrated SQLite file in ``folder`` (WAL, as in production); removed afterwards."""
    path = folder / f"bench_{uuid.uuid4().hex[:10]}.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
