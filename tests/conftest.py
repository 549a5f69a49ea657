"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL), and a clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_session_factory
from storage.scratch import postgres_unavailable, scratch_postgres, scratch_sqlite

# The suite gates every commit, so its fuzz examples are the same on every run ("repeatable").
# HYPOTHESIS_PROFILE=explore draws fresh random examples, for hunting new failures by hand.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

POSTGRES_URL = os.environ.get(
    "RADAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("RADAR_REQUIRE_POSTGRES") == "1"


_UNAVAILABLE = postgres_unavailable(POSTGRES_URL)
# None when reachable, else the reason (printed with the skip)
_PG_REASON = _UNAVAILABLE and f"PostgreSQL at {POSTGRES_URL} unavailable: {_UNAVAILABLE}"


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    with scratch_sqlite(tmp_path / "radar.db") as engine:
        yield engine


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A migrated, empty schema of its own in the local PostgreSQL, dropped afterwards."""
    if _PG_REASON:
        if REQUIRE_POSTGRES:
            pytest.fail(_PG_REASON)
        pytest.skip(_PG_REASON)
    with scratch_postgres(POSTGRES_URL, "t") as engine:
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """Runs the test once on a SQLite file and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def factory(engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(factory) -> Iterator[Session]:
    with factory() as s:
        yield s


class Clock:
    """A controllable clock for worker ticks, escalation and backtests."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
