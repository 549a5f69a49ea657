"""Fixtures for fault tests: a database URL that a worker subprocess can use, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from storage.db import make_engine
from tests.conftest import POSTGRES_URL


def url_of(engine: Engine) -> str:
    """The URL another process needs to reach the same (migrated) database or schema."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def watcher(engine) -> Iterator[Engine]:
    """An engine that watches a running worker without queueing for its write lock.

    The test engine starts SQLite transactions with BEGIN IMMEDIATE, so a poll through it waits
    behind the worker's writes and can be starved for several batches in a row; a read-only
    engine reads the last commit at once. PostgreSQL readers never wait: same engine.
    """
    if engine.dialect.name != "sqlite":
        yield engine
        return
    reader = make_engine(url_of(engine), read_only=True)
    yield reader
    reader.dispose()


@pytest.fixture
def db_url(engine) -> str:
    """Same parametrisation as ``engine`` (SQLite file, then PostgreSQL schema)."""
    return url_of(engine)


def pytest_collection_modifyitems(session, config, items) -> None:
    """Tests that stop the PostgreSQL server run after every other test of the session."""
    last = [item for item in items if "test_zz_postgres_restart" in item.nodeid]
    if last:
        items[:] = [item for item in items if item not in last] + last
