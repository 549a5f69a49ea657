"""Scratch databases for tests and benchmarks: a migrated SQLite file, or a PostgreSQL schema of
its own; each is removed afterwards whatever happens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from storage.db import make_engine
from storage.migrate import upgrade_to_head


def postgres_unavailable(url: str) -> str | None:
    """None when the PostgreSQL at ``url`` answers, else why not."""
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
        return None
    except Exception as exc:  # any connection problem means "not available here"
        return f"{type(exc).__name__}: {exc}"[:200]


def schema_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` as its search path. It is in the URL itself, so another process
    given ``engine.url`` (a worker, a Streamlit app) reads the same schema, not the public one."""
    options = {"options": f"-csearch_path={schema}"}
    return make_url(url).update_query_dict(options).render_as_string(hide_password=False)


@contextmanager
def scratch_postgres(url: str, prefix: str, migrate: bool = True) -> Iterator[Engine]:
    """An engine on a new, empty schema (migrated to head unless ``migrate`` is False)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, pool_pre_ping=True)  # survives a server restart
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(schema_url(url, schema))
    try:
        if migrate:
            upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def scratch_sqlite(path: Path) -> Iterator[Engine]:
    """A migrated SQLite file at ``path`` (WAL, as in production), deleted afterwards."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
