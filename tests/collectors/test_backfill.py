"""manage.py import: history files load once, with an exact summary."""

from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from collectors import backfill
from collectors.backfill import import_file, parse_mapping
from config.settings import PROJECT_ROOT
from tests.collectors.helpers import NOW, complaints, quarantined, stored_ids

BACKTEST_HEADER = (
    "id,received_at,channel,product_code,product_name,product_line,region,category,event_tag,text\n"
)


def test_import_backtest_csv_twice(factory, tmp_path):
    path = tmp_path / "history.csv"
    rows = "".join(
        f"h{i},2026-10-{1 + i % 28:02d} 10:00:00,hotline,CAR-001,安心车险,车险,广东省,理赔,,第{i}条\n"
        for i in range(2500)
    )
    path.write_text(BACKTEST_HEADER + rows + "bad,yesterday,hotline,,,,,,,\n", encoding="utf-8")
    first = import_file(factory, path, "history", NOW, progress=False)
    assert (first.rows, first.imported, first.duplicates, first.quarantined) == (2501, 2500, 0, 1)
    second = import_file(factory, path, "history", NOW, progress=False)
    assert (second.imported, second.duplicates) == (0, 2500)
    assert len(stored_ids(factory, "history")) == 2500
    assert quarantined(factory, "history")[0].reason.startswith("unparseable received_at")


def test_import_xlsx_with_mapping(factory, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["单号", "来电日期", "业务"])
    workbook.active.append(["K1", "2026-11-01 09:00", "安心车险"])
    workbook.save(tmp_path / "old.xlsx")
    mapping = parse_mapping(["id=单号,received_at=来电日期", "product_name=业务"])
    summary = import_file(
        factory, tmp_path / "old.xlsx", "old", NOW, mapping, "hotline", progress=False
    )
    assert summary.imported == 1 and complaints(factory, "old")[0].channel == "hotline"
    with pytest.raises(ValueError):
        parse_mapping(["received_at"])


def test_cli_prints_summary(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(BACKTEST_HEADER + "a,2026-11-01 09:00,热线,,,,,,,\n", encoding="utf-8")
    env = {
        **os.environ,
        "RADAR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "RADAR_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        str(PROJECT_ROOT / "manage.py"),
        "import",
        str(path),
        "--source",
        "history",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "导入 imported 1, 重复 duplicate 0, 隔离 quarantined 0" in done.stdout
    missing = subprocess.run(
        [*command[:3], str(tmp_path / "none.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert missing.returncode == 1 and "导入失败" in missing.stderr


def test_import_twice_quarantines_bad_rows_once(factory, tmp_path):
    rows = (
        "g1,2026-11-01 09:00,热线,,,,,,,好的\n"
        "b1,yesterday,热线,,,,,,,时间看不懂\n"
        "b2,yesterday,热线,,,,,,,时间也看不懂\n"  # same reason, another record: kept too
        "b3,2026-11-01 09:00,热线,,,,,,,多了字段,多余\n"
        "b3,2026-11-01 09:00,热线,,,,,,,多了字段,多余\n"  # the same bad line twice: two rows
    )
    (tmp_path / "h.csv").write_text(BACKTEST_HEADER + rows, encoding="utf-8")
    first = import_file(factory, tmp_path / "h.csv", "history", NOW, progress=False)
    assert (first.imported, first.quarantined, first.already_quarantined) == (1, 4, 0)
    second = import_file(factory, tmp_path / "h.csv", "history", NOW, progress=False)
    assert (second.imported, second.duplicates, second.quarantined) == (0, 1, 4)
    assert second.already_quarantined == 4 and "already quarantined 4" in str(second)
    kept = quarantined(factory, "history")
    assert len(kept) == 4
    assert sorted(q.external_id for q in kept) == ["b1", "b2", "h.csv:5", "h.csv:6"]
    # Another file with the same bad line is another record.
    (tmp_path / "h2.csv").write_text(BACKTEST_HEADER + rows, encoding="utf-8")
    third = import_file(factory, tmp_path / "h2.csv", "history", NOW, progress=False)
    assert (third.quarantined, third.already_quarantined) == (4, 2)  # b1, b2 are the same rows
    assert len(quarantined(factory, "history")) == 6


def _history_rows(count: int) -> list[str]:
    return [
        f"h{i},2026-10-{1 + i % 28:02d} 10:00:00,hotline,CAR-001,安心车险,车险,广东省,理赔,,第{i}条\n"
        for i in range(count)
    ]


def _import_counting_commits(factory, path) -> tuple[backfill.ImportSummary, int]:
    commits: list[Session] = []

    def committed(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", committed)
    try:
        summary = import_file(factory, path, "history", NOW, progress=False)
    finally:
        event.remove(Session, "after_commit", committed)
    return summary, len(commits)


def test_import_commits_thousands_of_rows_at_once(factory, tmp_path):
    """Each commit rewrites the index pages its rows touched: 4,500 rows are one transaction
    (after the one for the file's own problems), not one per 2,000 rows."""
    (tmp_path / "h.csv").write_text(
        BACKTEST_HEADER + "".join(_history_rows(4500)), encoding="utf-8"
    )
    summary, commits = _import_counting_commits(factory, tmp_path / "h.csv")
    assert summary.imported == 4500 and commits == 2


def test_import_chunks_keep_repeats_and_bad_rows_exact(factory, tmp_path, monkeypatch):
    """Across chunks (here of 1,000 rows) a repeated row is stored once and a bad row is
    quarantined with its chunk."""
    monkeypatch.setattr(backfill, "CHUNK_ROWS", 1000)
    rows = _history_rows(2500)
    rows[2100] = rows[10]  # the third chunk repeats a row of the first
    rows[1500] = "bad,yesterday,hotline,,,,,,,\n"
    (tmp_path / "h.csv").write_text(BACKTEST_HEADER + "".join(rows), encoding="utf-8")
    summary, commits = _import_counting_commits(factory, tmp_path / "h.csv")
    assert commits == 1 + 3
    assert (summary.imported, summary.duplicates, summary.quarantined) == (2498, 1, 1)
    assert len(stored_ids(factory, "history")) == 2498
