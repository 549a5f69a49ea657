"""Peak RSS of importing a generated 300,000-row workbook through the drop folder (issue 19 item 7).

Not a test (figures depend on the machine): ``python -m tests.collectors.measure_drop_memory``.
It builds the workbook, runs the collector until the file is done, and prints the peak RSS.
``--fetch-only`` reads the file through the collector without a database: the SQLite writer's
page cache (``storage.db``) grows with the database, not with the file, and is left out.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from collectors.csv_folder import CsvFolderCollector
from collectors.runner import collect_once
from config.sources import CsvFolderSource
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from tests.collectors.test_xlsx_bomb import bomb


def fetch_only(collector: CsvFolderCollector) -> int:
    """Fetch every batch of the file as the runner would, keeping none; the records read."""
    cursor, records = "", 0
    while True:
        batch = collector.fetch(cursor, datetime.now(UTC))
        records += len(batch.records)
        cursor = batch.cursor
        if batch.after_commit is not None:
            return records


def main(rows: int, only_fetch: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp())
    inbox = folder / "inbox"
    inbox.mkdir()
    bomb(inbox / "big.xlsx", rows)
    engine = make_engine(f"sqlite:///{folder / 'radar.db'}")
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    config = {"name": "drop", "kind": "csv_folder", "inbox": inbox, "settle_seconds": 0}
    collector = CsvFolderCollector(CsvFolderSource.model_validate({**config, "max_rows": rows}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, inserted = time.monotonic(), 0
    for _ in range(0 if only_fetch else 1_000):
        result = collect_once(factory, "drop", "csv_folder", collector, datetime.now(UTC))
        inserted += result.inserted
        if result.error or not any(inbox.glob("*.xlsx")):
            break
    if only_fetch:
        inserted = fetch_only(collector)
    return {
        "rows": rows,
        "fetch_only": only_fetch,
        "inserted": inserted,
        "rss_before_mb": round(before / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    print(json.dumps(main(numbers[0] if numbers else 300_000, "--fetch-only" in sys.argv)))
