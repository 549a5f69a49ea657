"""The next group is fetched while this one is stored; nothing changes on what is stored, and a
failed store leaves no fetch running and nothing half-stored. On SQLite the helper normalises
only while the store lets it (``storage.gil_gate``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

import collectors.runner as runner
from collectors.base import Batch
from tests.collectors.helpers import counted, record, run, state, stored_ids


@dataclass
class WatchedSource:
    """Pages of 10 records; says when the fetch of each cursor started and how many run now."""

    total: int
    slow_cursor: str | None = None  # this fetch takes half a second
    fail_cursor: str | None = None
    file_pages: bool = False  # every page has an after-commit step, like a file
    started: dict[str, threading.Event] = field(default_factory=dict)
    running: int = 0
    events: list[str] = field(default_factory=list)

    def began(self, cursor: str) -> threading.Event:
        return self.started.setdefault(cursor, threading.Event())

    def fetch(self, cursor: str, now: datetime) -> Batch:
        self.running += 1
        try:
            self.events.append(f"fetch {cursor}")
            self.began(cursor).set()
            if cursor == self.slow_cursor:
                time.sleep(0.5)
            if cursor == self.fail_cursor:
                raise ConnectionError("source went away")
            start = int(cursor or 0)
            stop = min(start + 10, self.total)
            after = (
                (lambda _outcome: self.events.append(f"moved {stop}")) if self.file_pages else None
            )
            page = [record(i) for i in range(start, stop)]
            return Batch(page, cursor=str(stop), has_more=stop < self.total, after_commit=after)
        finally:
            self.running -= 1


@pytest.fixture
def on_first_commit() -> Iterator[Callable[[Callable[[], None]], None]]:
    """Run a step inside the next commit of a transaction that wrote something."""
    steps: list[Callable[[], None]] = []

    def before_commit(session: Session) -> None:
        if steps and (session.new or session.dirty):
            steps.pop(0)()

    event.listen(Session, "before_commit", before_commit)
    yield steps.append
    event.remove(Session, "before_commit", before_commit)


@pytest.fixture
def groups_of_twenty(monkeypatch) -> None:
    monkeypatch.setattr(runner, "GROUP_RECORDS", 20)


@pytest.mark.usefixtures("groups_of_twenty")
def test_the_next_group_is_fetched_while_this_one_is_stored(factory, on_first_commit):
    source = WatchedSource(total=60)
    fetched_ahead: list[bool] = []
    # The first group (the first page) waits to commit until the next group's fetch began.
    on_first_commit(lambda: fetched_ahead.append(source.began("10").wait(10)))

    result = run(factory, "ahead", "test", source)

    assert fetched_ahead == [True]
    assert (result.fetched, result.inserted, result.error) == (60, 60, "")
    assert len(stored_ids(factory, "ahead")) == 60
    assert counted(factory, "ahead") == 60
    assert state(factory, "ahead").cursor == "60"


def test_groups_double_from_one_page_up_to_group_records(factory, commits, monkeypatch):
    monkeypatch.setattr(runner, "GROUP_RECORDS", 40)

    result = run(factory, "ahead", "test", WatchedSource(total=150))

    assert (result.inserted, result.error) == (150, "")
    # 10, then each group at most what was fetched before it: 10, 20, 40, then 40 at most.
    assert commits == ["10", "20", "40", "80", "120", "150"]
    assert counted(factory, "ahead") == 150


@pytest.mark.usefixtures("groups_of_twenty")
def test_a_failed_store_drops_the_group_fetched_ahead(factory, on_first_commit):
    source = WatchedSource(total=60, slow_cursor="10")

    def fail_once_the_next_fetch_runs() -> None:
        assert source.began("10").wait(10)
        raise RuntimeError("disk full")

    on_first_commit(fail_once_the_next_fetch_runs)

    result = run(factory, "ahead", "test", source)

    assert "disk full" in result.error
    assert source.running == 0  # the run waited for the fetch it had started
    assert stored_ids(factory, "ahead") == []
    assert state(factory, "ahead").cursor == ""
    again = run(factory, "ahead", "test", source)  # from the old cursor: all, once
    assert (again.inserted, again.duplicates, again.error) == (60, 0, "")
    assert counted(factory, "ahead") == 60


@pytest.mark.usefixtures("groups_of_twenty")
def test_a_fetch_failing_in_the_next_group_keeps_the_groups_before_it(factory):
    source = WatchedSource(total=60, fail_cursor="20")

    result = run(factory, "ahead", "test", source)

    assert result.inserted == 20
    assert "source went away" in result.error
    assert state(factory, "ahead").cursor == "20"
    source.fail_cursor = None
    again = run(factory, "ahead", "test", source)
    assert (again.inserted, again.duplicates) == (40, 0)
    assert len(stored_ids(factory, "ahead")) == 60


@pytest.mark.usefixtures("groups_of_twenty")
def test_no_fetch_ahead_of_a_page_that_moves_a_file(factory, on_first_commit):
    source = WatchedSource(total=20, file_pages=True)
    fetched_early: list[bool] = []
    # Were the next page fetched ahead, it would begin while the first one commits.
    on_first_commit(lambda: fetched_early.append(source.began("10").wait(1)))

    result = run(factory, "files", "test", source)

    assert fetched_early == [False]
    assert source.events == ["fetch ", "moved 10", "fetch 10", "moved 20"]
    assert (result.inserted, result.error) == (20, "")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_on_sqlite_the_helper_does_not_normalise_while_rows_are_bound(factory, monkeypatch):
    """Were it to, every row of the insert would wait for the GIL behind it."""
    monkeypatch.setattr(runner, "BACKGROUND_SLICE", 1)
    helper_done: list[int] = []  # records the helper has normalised, one entry each
    real_normalize = runner.normalize

    def slow_normalize(*args, **kwargs):
        time.sleep(0.02)  # slow enough that the helper is mid-page when the first insert runs
        complaint = real_normalize(*args, **kwargs)
        if threading.current_thread().name.startswith("fetch-"):
            helper_done.append(1)
        return complaint

    monkeypatch.setattr(runner, "normalize", slow_normalize)
    seen: list[tuple[int, int]] = []

    def during_insert(conn, cursor, statement, parameters, context, executemany) -> None:
        if executemany:  # the store's rows, bound one by one
            before = len(helper_done)
            time.sleep(0.3)  # the helper would normalise ~15 records meanwhile, ungated
            seen.append((before, len(helper_done)))

    bind = factory.kw["bind"]
    event.listen(bind, "before_cursor_execute", during_insert)
    try:
        result = run(factory, "gated", "test", WatchedSource(total=40))
    finally:
        event.remove(bind, "before_cursor_execute", during_insert)

    assert (result.inserted, result.error) == (40, "")
    first_before, first_after = seen[0]  # the first page's insert; the helper is on page two
    assert first_before < 10, "the helper had finished before the insert: nothing was tested"
    assert first_after == first_before
    assert all(after == before for before, after in seen)
