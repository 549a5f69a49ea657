"""Fixtures for fault tests: a database URL that a worker subprocess can use, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.conftest import POSTGRES_URL


def url_of(engine: Engine) -> str:
    """The URL another process needs to reach the same (migrated) database or schema."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def db_url(engine) -> str:
    """Same parametrisation as ``engine`` (SQLite file, then PostgreSQL schema)."""
    return url_of(engine)


def pytest_collection_modifyitems(session, config, items) -> None:
    """Tests that stop the PostgreSQL server run after every other test of the session."""
    last = [item for item in items if "test_zz_postgres_restart" in item.nodeid]
    if last:
        items[:] = [item for item in items if item not in last] + last
