"""The drop folder stores a file in batches of rows (issue 19 item 7).

A file used to be read, normalised and stored whole in one transaction: a 300,000-row workbook
took the worker from 103 MB to 518 MB. Now each batch is committed with a cursor naming the file
and the rows behind it; these tests check that a big file is stored completely and once, that a
file over the limits is refused whole, and that a failure or a kill mid-file loses and doubles
nothing (peak memory: ``python -m tests.collectors.measure_drop_memory``).
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

import collectors.runner as runner
from collectors.csv_folder import CsvFolderCollector
from collectors.file_import import BATCH_ROWS
from config.settings import PROJECT_ROOT
from config.sources import CsvFolderSource
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from tests.collectors.helpers import (
    complaints,
    counted,
    quarantined,
    run,
    state,
    state_or_none,
    stored_ids,
)
from tests.collectors.test_xlsx_bomb import bomb

ROWS = 2 * BATCH_ROWS + 1_234


def _collector(inbox: Path, **options) -> CsvFolderCollector:
    config = {"name": "drop", "kind": "csv_folder", "inbox": inbox, "settle_seconds": 0}
    return CsvFolderCollector(CsvFolderSource.model_validate({**config, **options}))


def write_csv(path: Path, rows: int, ids: bool = True) -> Path:
    """``rows`` complaints; without ids, every row appears twice (content ids tell them apart)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow((["id"] if ids else []) + ["received_at", "channel", "text"])
        for n in range(rows):
            text_ = f"投诉 {n // 2 if not ids else n}"
            out.writerow(([f"C{n:06d}"] if ids else []) + ["2026-11-23 09:00", "hotline", text_])
    return path


def drain(factory, collector, inbox: Path, runs: int = 50) -> None:
    for _ in range(runs):
        result = run(factory, "drop", "csv_folder", collector)
        assert not result.error, result.error
        if not any(p.is_file() for p in inbox.iterdir()):
            return
    raise AssertionError("the file was not finished")


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def sqlite_factory(sqlite_engine):
    return make_session_factory(sqlite_engine)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_big_file_is_stored_completely_once_in_several_commits(
    factory, commits, inbox, kind, monkeypatch
):
    monkeypatch.setattr(runner, "GROUP_RECORDS", BATCH_ROWS)  # one batch of rows per commit
    if kind == "csv":
        write_csv(inbox / "big.csv", ROWS)
    else:
        bomb(inbox / "big.xlsx", ROWS)
    drain(factory, _collector(inbox), inbox)
    assert len(stored_ids(factory, "drop")) == ROWS == counted(factory, "drop")
    partial = [json.loads(c) for c in commits if c and "partial" in json.loads(c)]
    assert len(partial) >= 2  # the file was committed in batches, not in one transaction
    assert [p["partial"]["rows"] for p in partial] == sorted(p["partial"]["rows"] for p in partial)
    assert "partial" not in json.loads(state(factory, "drop").cursor)
    assert (inbox / "done" / f"big.{kind}").exists()
    assert f"{ROWS} 行 rows" in (inbox / "done" / f"big.{kind}.result.txt").read_text("utf-8")
    # Dropped again under another name: recognised by its hash, nothing stored twice.
    (inbox / "done" / f"big.{kind}").rename(inbox / f"again.{kind}")
    drain(factory, _collector(inbox), inbox)
    assert len(stored_ids(factory, "drop")) == ROWS


def test_a_csv_over_the_row_limit_is_refused_whole_before_any_batch(factory, inbox):
    write_csv(inbox / "many.csv", 3 * BATCH_ROWS)
    result = run(factory, "drop", "csv_folder", _collector(inbox, max_rows=2 * BATCH_ROWS))
    assert result.inserted == 0 and complaints(factory, "drop") == []
    [record] = quarantined(factory, "drop")
    assert "more than 10,000 rows" in record.reason
    assert (inbox / "failed" / "many.csv").exists()
    assert (inbox / "failed" / "many.csv.reason.txt").exists()


def test_a_store_failing_mid_file_resumes_after_the_committed_rows(sqlite_factory, inbox):
    """Rows without ids: resuming must give the rows after the cut the same content ids."""
    write_csv(inbox / "noids.csv", ROWS, ids=False)
    with sqlite_factory() as session:  # the database refuses rows past the first batch
        session.execute(
            text(
                "CREATE TRIGGER full BEFORE INSERT ON complaints "
                f"WHEN (SELECT count(*) FROM complaints) >= {BATCH_ROWS + 10} "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
        session.commit()
    collector = _collector(inbox)
    result = run(sqlite_factory, "drop", "csv_folder", collector)
    assert "disk full" in result.error
    stored = len(stored_ids(sqlite_factory, "drop"))
    assert 0 < stored < ROWS and "partial" in state(sqlite_factory, "drop").cursor
    with sqlite_factory() as session:
        session.execute(text("DROP TRIGGER full"))
        session.commit()
    drain(sqlite_factory, collector, inbox)  # the same collector, its open file now behind
    assert len(stored_ids(sqlite_factory, "drop")) == ROWS == counted(sqlite_factory, "drop")


KILLED = """
import sys
from datetime import UTC, datetime
import collectors.runner as runner
from collectors.csv_folder import CsvFolderCollector
from collectors.runner import collect_once
from config.sources import CsvFolderSource
from storage.db import make_engine, make_session_factory
factory = make_session_factory(make_engine(sys.argv[1]))
collector = CsvFolderCollector(CsvFolderSource.model_validate(
    {"name": "drop", "kind": "csv_folder", "inbox": sys.argv[2], "settle_seconds": 0}))
while True:
    collect_once(factory, "drop", "csv_folder", collector, datetime.now(UTC))
"""


def test_a_worker_killed_mid_file_loses_and_doubles_nothing(tmp_path, inbox):
    rows = 12 * BATCH_ROWS
    write_csv(inbox / "big.csv", rows, ids=False)
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    worker = subprocess.Popen([sys.executable, "-c", KILLED, url, str(inbox)], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            cursor = json.loads(getattr(state_or_none(factory, "drop"), "cursor", "") or "{}")
            if cursor.get("partial", {}).get("rows", 0) >= 2 * BATCH_ROWS:
                break
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert (inbox / "big.csv").exists(), "killed too late: the file was finished"
    before = len(stored_ids(factory, "drop"))
    assert 0 < before < rows
    drain(factory, _collector(inbox), inbox)  # the restarted worker
    assert len(stored_ids(factory, "drop")) == rows == counted(factory, "drop")
    engine.dispose()


def test_a_gb18030_file_larger_than_a_read_chunk_keeps_its_text(factory, inbox):
    """The encoding is found over 1 MB chunks: characters split between chunks still decode."""
    rows = 30_000  # ≈ 2.4 MB: characters of two bytes fall across each chunk boundary
    with (inbox / "gbk.csv").open("w", encoding="gb18030", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["工单号", "受理时间", "渠道", "投诉内容"])
        for n in range(rows):
            out.writerow([f"G{n:06d}", "2026-11-23 09:00", "热线", f"理赔太慢，第{n}次催办"])
    drain(factory, _collector(inbox), inbox)
    stored = complaints(factory, "drop")
    assert len(stored) == rows
    assert stored[-1].text == f"理赔太慢，第{rows - 1}次催办"
    assert "encoding gb18030" in (inbox / "done" / "gbk.csv.result.txt").read_text("utf-8")


def test_a_bad_row_in_a_later_batch_is_quarantined_and_the_rest_stored(factory, inbox):
    path = write_csv(inbox / "one-bad.csv", ROWS)
    lines = path.read_text("utf-8").splitlines()
    lines[BATCH_ROWS + 500] += ",多出的字段"  # a row of the second batch has a field too many
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    drain(factory, _collector(inbox), inbox)
    assert len(stored_ids(factory, "drop")) == ROWS - 1
    [record] = quarantined(factory, "drop")
    assert record.external_id == f"one-bad.csv:{BATCH_ROWS + 501}"
    assert "too many fields" in record.reason
