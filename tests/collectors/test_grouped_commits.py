"""A backfill's pages are committed together, and nothing is lost or doubled at group edges.

One commit per page cost more than the page's inserts (each commit rewrites every index page
the page's random keys touched), so the runner stores consecutive pages of one source in one
transaction, up to ``GROUP_RECORDS`` records or ``GROUP_SECONDS`` of fetching.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

import pytest

import collectors.runner as runner
from collectors.base import WORKER_STOPPING, Batch
from tests.collectors.helpers import (
    PagedSource,
    counted,
    quarantined,
    record,
    run,
    state,
    stored_ids,
)


def test_pages_are_committed_in_groups_of_at_most_group_records(factory, commits, monkeypatch):
    monkeypatch.setattr(runner, "GROUP_RECORDS", 25)
    source = PagedSource([record(i) for i in range(100)], size=10)

    result = run(factory, "paged", "test", source)

    assert (result.fetched, result.inserted, result.error) == (100, 100, "")
    # The run's first page alone, then groups that end once they hold 25 records or more
    # (three pages).
    assert commits == ["10", "40", "70", "100"]
    assert len(stored_ids(factory, "paged")) == 100
    assert counted(factory, "paged") == 100
    assert state(factory, "paged").cursor == "100"
    assert state(factory, "paged").records_last_run == 100


def test_a_fetch_failing_mid_group_keeps_the_pages_before_it(factory, monkeypatch):
    monkeypatch.setattr(runner, "GROUP_RECORDS", 1000)
    source = PagedSource([record(i) for i in range(50)], size=10, fail_at_cursor="30")

    result = run(factory, "paged", "test", source)

    assert result.inserted == 30
    assert "source went away" in result.error
    saved = state(factory, "paged")
    assert (saved.cursor, saved.consecutive_failures) == ("30", 1)
    assert "source went away" in saved.last_error

    source.fail_at_cursor = None  # the source is back: the rest, and nothing twice
    again = run(factory, "paged", "test", source)
    assert (again.inserted, again.duplicates, again.error) == (20, 0, "")
    assert stored_ids(factory, "paged") == [f"G{i:05d}" for i in range(50)]
    assert counted(factory, "paged") == 50


def test_duplicates_and_bad_records_across_pages_of_one_group(factory):
    rows = [record(i) for i in range(30)]
    rows[15] = dict(rows[3])  # re-delivered on a later page of the same group
    rows[22] = {**record(22), "received_at": "not a time"}
    source = PagedSource(rows, size=10)

    result = run(factory, "paged", "test", source)

    assert (result.fetched, result.inserted, result.duplicates, result.quarantined) == (
        30,
        28,
        1,
        1,
    )
    assert len(stored_ids(factory, "paged")) == 28
    assert counted(factory, "paged") == 28
    assert [q.external_id for q in quarantined(factory, "paged")] == ["G00022"]


@dataclass
class FilesThenMore:
    """Two plain pages, then a page with an after-commit step (a file), then one more page."""

    calls: list[str] = field(default_factory=list)
    outcomes: list = field(default_factory=list)

    def fetch(self, cursor: str, now: datetime) -> Batch:
        index = int(cursor or 0)
        self.calls.append(cursor)
        page = [record(index * 10 + i) for i in range(10)]
        if index == 2:  # the "file": only 3 of its records are new
            page = [record(i) for i in range(7)] + [record(100 + i) for i in range(3)]
            return Batch(
                records=page,
                cursor="3",
                has_more=True,
                after_commit=lambda outcome: self.outcomes.append(outcome),
            )
        return Batch(records=page, cursor=str(index + 1), has_more=index < 3)


def test_a_page_with_an_after_commit_step_ends_its_group_and_gets_its_own_outcome(factory):
    source = FilesThenMore()

    result = run(factory, "paged", "test", source)

    assert source.calls == ["", "1", "2", "3"]
    assert len(source.outcomes) == 1
    outcome = source.outcomes[0]
    assert (outcome.fetched, outcome.inserted, outcome.duplicates) == (10, 3, 7)
    assert (result.fetched, result.inserted, result.duplicates) == (40, 33, 7)
    assert state(factory, "paged").cursor == "4"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_group_stops_after_group_seconds_of_fetching(factory, commits, monkeypatch):
    clock = iter(range(0, 1000, 3))  # each fetch "takes" three seconds
    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    monkeypatch.setattr(runner, "GROUP_SECONDS", 5.0)
    monkeypatch.setattr(runner, "RUN_SECONDS", float("inf"))  # this clock would end the run
    source = PagedSource([record(i) for i in range(80)], size=10)

    run(factory, "paged", "test", source)

    # The first page alone, then groups cut at two pages: 6 s of fetching >= 5 s.
    assert commits == ["10", "30", "50", "70", "80"]


def test_a_run_ends_at_its_time_limit_and_the_next_run_goes_on(factory, monkeypatch):
    monkeypatch.setattr(runner, "RUN_SECONDS", 0.3)
    source = SlowPages([record(i) for i in range(100)], size=1, seconds=0.05)

    first = run(factory, "slow", "test", source)

    # Without the limit the run would read all 100 pages (5 s); with it, a few.
    assert first.more and first.error == ""
    assert 1 <= first.inserted < 100
    assert state(factory, "slow").cursor == str(first.inserted)
    runs = [first]
    while runs[-1].more:
        runs.append(run(factory, "slow", "test", source))
    assert sum(r.inserted for r in runs) == 100 and sum(r.duplicates for r in runs) == 0
    assert stored_ids(factory, "slow") == [f"G{i:05d}" for i in range(100)]
    assert counted(factory, "slow") == 100


def test_a_stopping_worker_ends_a_backfill_run_at_the_next_group(factory):
    source = PagedSource([record(i) for i in range(100)], size=1)
    WORKER_STOPPING.set()
    try:
        stopped = run(factory, "stop", "test", source)
    finally:
        WORKER_STOPPING.clear()
    # Without the check the run would read all 100 pages; the first is stored, and kept.
    assert stopped.more and stopped.inserted == 1 and state(factory, "stop").cursor == "1"
    assert run(factory, "stop", "test", source).inserted == 99


@dataclass
class SlowPages(PagedSource):
    """Pages that each take ``seconds`` to fetch."""

    seconds: float = 0.0

    def fetch(self, cursor: str, now: datetime) -> Batch:
        time.sleep(self.seconds)
        return super().fetch(cursor, now)
