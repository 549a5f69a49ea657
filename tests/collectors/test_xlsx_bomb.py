"""Compressed bombs in the drop folder (issue 19 item 7).

An 812 KB workbook expanding to a million rows took the worker from 180 MB to 1.9 GB. Workbooks
are now refused, with a reason, when they unpack to more than ``max_unpacked_mb`` or hold more
than ``max_rows`` rows; reading stops at the limit, so memory stays bounded.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from collectors.csv_folder import CsvFolderCollector
from config.settings import PROJECT_ROOT
from config.sources import CsvFolderSource
from tests.collectors.helpers import complaints, quarantined, run

ROW = '<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>B{n}</t></is></c><c r="B{n}" t="inlineStr"><is><t>2026-11-23 09:00</t></is></c><c r="C{n}" t="inlineStr"><is><t>hotline</t></is></c></row>'


def bomb(path: Path, rows: int) -> Path:
    """A real workbook (made by openpyxl) whose sheet is replaced by ``rows`` generated rows."""
    book = openpyxl.Workbook()
    book.active.append(["id", "received_at", "channel"])
    template = io.BytesIO()
    book.save(template)
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>received_at</t></is></c><c r="C1" t="inlineStr"><is><t>channel</t></is></c></row>'
    with (
        zipfile.ZipFile(template) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, src.read(item.filename))
        with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(head.encode())
            for start in range(2, rows + 2, 10_000):
                chunk = "".join(
                    ROW.format(n=n) for n in range(start, min(start + 10_000, rows + 2))
                )
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def _collector(inbox: Path, **limits) -> CsvFolderCollector:
    config = {"name": "drop", "kind": "csv_folder", "inbox": inbox, "settle_seconds": 0, **limits}
    return CsvFolderCollector(CsvFolderSource.model_validate(config))


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_a_workbook_over_the_row_limit_is_refused_whole(factory, inbox):
    bomb(inbox / "many.xlsx", 5_000)
    result = run(factory, "drop", "csv_folder", _collector(inbox, max_rows=1_000))
    assert result.inserted == 0 and complaints(factory, "drop") == []
    [record] = quarantined(factory, "drop")
    assert "more than 1,000 rows" in record.reason
    assert (inbox / "failed" / "many.xlsx").exists()


def test_a_workbook_unpacking_over_the_limit_is_refused_before_parsing(factory, inbox):
    path = bomb(inbox / "big.xlsx", 20_000)
    assert path.stat().st_size < 1_048_576 / 2  # small on disk, several MB unpacked
    result = run(factory, "drop", "csv_folder", _collector(inbox, max_unpacked_mb=1))
    assert result.inserted == 0
    [record] = quarantined(factory, "drop")
    assert "workbook unpacks to more than the limit" in record.reason


def test_within_the_limits_every_row_is_imported(factory, inbox):
    bomb(inbox / "ok.xlsx", 300)
    assert run(factory, "drop", "csv_folder", _collector(inbox, max_rows=300)).inserted == 300


MEASURE = """
import json, resource, sys, time
from pathlib import Path
from datetime import UTC, datetime
from collectors.csv_folder import CsvFolderCollector
from config.sources import CsvFolderSource
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c = CsvFolderCollector(CsvFolderSource.model_validate(
    {"name": "drop", "kind": "csv_folder", "inbox": sys.argv[1], "settle_seconds": 0}))
start = time.monotonic()
batch = c.fetch("", datetime.now(UTC))
print(json.dumps({"before_kb": before, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "seconds": time.monotonic() - start, "records": len(batch.records),
                  "reason": batch.rejected[0].reason if batch.rejected else ""}))
"""


def test_a_million_row_bomb_is_refused_with_bounded_memory(tmp_path, inbox):
    path = bomb(inbox / "bomb.xlsx", 1_000_000)
    size_kb = path.stat().st_size // 1024
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(inbox)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600, check=True,
    )  # fmt: skip
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"bomb {size_kb} KB: {figures}")
    assert figures["records"] == 0 and "more than 200,000 rows" in figures["reason"]
    assert figures["peak_kb"] - figures["before_kb"] < 400 * 1024  # the report saw +1.7 GB
