"""Several sources backfilling at once, as the worker's thread pool runs them: each stores
through the database's locks. Nothing is lost, nothing doubled, and nobody waits forever."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import collectors.runner as runner
from tests.collectors.helpers import PagedSource, counted, record, run, state, stored_ids

SOURCES = 4
RECORDS = 2_000


def backfill(factory, name: str, source: PagedSource) -> int:
    """Runs until the source has nothing more; returns how many runs it took."""
    runs = 0
    while True:
        result = run(factory, name, "test", source)
        runs += 1
        assert result.error == "", result.error
        if not result.more:
            return runs


def test_sources_collected_at_once_store_every_record_once(factory, monkeypatch):
    monkeypatch.setattr(runner, "GROUP_RECORDS", 300)  # many groups, each fetched ahead
    sources = {
        f"s{n}": PagedSource(
            [{**record(i), "id": f"s{n}-{i:05d}"} for i in range(RECORDS)], size=100
        )
        for n in range(SOURCES)
    }
    with ThreadPoolExecutor(SOURCES) as pool:
        futures = [pool.submit(backfill, factory, name, s) for name, s in sources.items()]
        for future in futures:
            future.result(timeout=300)  # a deadlock fails here instead of hanging the suite
    for name in sources:
        assert len(stored_ids(factory, name)) == RECORDS, name
        assert counted(factory, name) == RECORDS, name
        assert state(factory, name).cursor == str(RECORDS)
