"""Process-wide interpreter settings for the worker: thread switching and garbage collection.

The worker's threads mostly wait on databases and sources. While one thread computes (a
collector normalising the next group, the evaluator), a reply to another waits for the GIL up
to the switch interval, 5 ms by default, and a PostgreSQL store makes about ten round trips.

Ingest allocates a few container objects per complaint (the normalised complaint, its row
tuple). Python's default runs a young collection every 700 allocations, and each older
collection scans everything alive, imports and configuration included.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_SECONDS = 0.001
YOUNG_COLLECTION_ALLOCATIONS = 10_000


def tune_process() -> str:
    """Switch threads every 1 ms; freeze what start-up allocated; collect young objects less often.

    ``manage.py bench`` measured a tenth more complaints/s into PostgreSQL from the switch
    interval, and about a tenth more into SQLite from the collection settings (docs/PERFORMANCE.md,
    "Ingest, fourth round" and "fifth round"). Returns what it set, for the start-up log.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()  # the rest lives as long as the process: older collections skip it
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS, middle, old)
    return (
        f"threads switch every {sys.getswitchinterval() * 1000:g} ms, "
        f"young objects collected every {gc.get_threshold()[0]:,} allocations, "
        f"{gc.get_freeze_count():,} start-up objects frozen"
    )


@contextmanager
def tuned_process() -> Iterator[str]:
    """``tune_process`` for a measurement inside another program (the bench), then undone."""
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    try:
        yield tune_process()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
