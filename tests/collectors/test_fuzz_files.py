"""Fuzzed CSV and Excel exports dropped into a real inbox folder and run through the collector.

Whatever a call-centre system exports — any encoding, broken bytes, control characters, huge
fields, far-away dates, Excel cells of every type, corrupted workbooks — each row ends stored,
a duplicate or quarantined with a reason, or the whole file is refused with one quarantine
entry; the file always leaves the inbox, so a bad file can never block the ones behind it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from collectors.csv_folder import CsvFolderCollector
from config.sources import CsvFolderSource
from tests.collectors.fuzz_inputs import (
    FUZZ,
    TEN_MB,
    assert_accounted,
    channel_text,
    hostile_text,
    id_text,
    source_name,
    stored,
    time_text,
)
from tests.collectors.helpers import complaints, run

# "序号" is no mapped column: it only keeps every row non-blank, so the row count is known.
HEADER = ["序号", "工单号", "受理时间", "渠道", "险种", "省份", "投诉内容", "客户电话"]
CLEAN_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "utf-16")
GARBAGE_BYTES = [b"\xff", b"\x80", b"\xc3\x28", b"\xed\xa0\x80", b"\xfe\xfe", b"\xa1"]
MARK = "\ue000"  # replaced by raw garbage bytes after encoding

csv_row = st.tuples(
    id_text, time_text, channel_text, hostile_text, hostile_text, hostile_text, id_text
)


def collector(inbox: Path, name: str) -> CsvFolderCollector:
    config = {"name": name, "kind": "csv_folder", "inbox": inbox, "settle_seconds": 0}
    return CsvFolderCollector(CsvFolderSource.model_validate(config))


def new_inbox(root: Path, name: str) -> Path:
    inbox = root / name
    inbox.mkdir()
    return inbox


def roundtrip(value: str, encoding: str) -> str:
    """The text the file can really hold in ``encoding`` (GBK has no emoji: they become '?')."""
    if encoding == "gbk":
        return value.encode("gbk", "replace").decode("gbk")
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def csv_bytes(rows: list[list[str]], encoding: str, garbage: list[bytes]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    if encoding == "broken":  # UTF-8 with raw bytes that belong to no encoding spliced in
        data = text.encode("utf-8", "surrogatepass")
        parts = data.split(MARK.encode())
        return b"".join(
            p + (garbage[i % len(garbage)] if i < len(parts) - 1 else b"")
            for i, p in enumerate(parts)
        )
    return text.encode(encoding)


def assert_file_accounted(factory, inbox: Path, name: str, result, rows: int, may_fail: bool):
    """Rows accounted for, or the file refused as a whole; in both cases it left the inbox."""
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    failed = list((inbox / "failed").glob("*.reason.txt")) if (inbox / "failed").exists() else []
    if failed:
        assert may_fail, failed[0].read_text(encoding="utf-8")
        assert (result.inserted, result.quarantined, result.error) == (0, 1, "")
        assert stored(factory, name).quarantined == 1
        return
    assert list((inbox / "done").glob("*.result.txt"))
    assert_accounted(factory, name, result, rows)


@FUZZ
@given(
    rows=st.lists(csv_row, min_size=1, max_size=8),
    encoding=st.sampled_from([*CLEAN_ENCODINGS, "broken"]),
    garbage=st.lists(st.sampled_from(GARBAGE_BYTES), min_size=1, max_size=3),
)
def test_fuzzed_csv_rows_are_stored_or_quarantined(factory, tmp_path, rows, encoding, garbage):
    name = source_name("csv")
    inbox = new_inbox(tmp_path, name)
    if encoding == "broken":
        table = [
            [str(i), *(MARK + v if j == 5 else v for j, v in enumerate(row))]
            for i, row in enumerate(rows)
        ]
    else:
        table = [[str(i), *(roundtrip(v, encoding) for v in row)] for i, row in enumerate(rows)]
    (inbox / "export.csv").write_bytes(csv_bytes(table, encoding, garbage))
    result = run(factory, name, "csv_folder", collector(inbox, name))
    # Only a file whose bytes fit no encoding may be refused whole; a clean export never is.
    assert_file_accounted(factory, inbox, name, result, len(rows), may_fail=encoding == "broken")


excel_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.dates(min_value=date(1900, 3, 1)),
    hostile_text.map(
        lambda s: ILLEGAL_CHARACTERS_RE.sub("", s.encode("utf-8", "replace").decode())
    ),
    time_text.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s.encode("utf-8", "replace").decode())),
)


@FUZZ
@given(rows=st.lists(st.lists(excel_cell, min_size=7, max_size=9), min_size=1, max_size=8))
def test_fuzzed_excel_cells_are_stored_or_quarantined(factory, tmp_path, rows):
    """Excel hands over numbers, booleans, dates and text in any column; extra cells overflow."""
    name = source_name("xlsx")
    inbox = new_inbox(tmp_path, name)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for i, row in enumerate(rows):
        sheet.append([str(i), *row])
    workbook.save(inbox / "export.xlsx")
    result = run(factory, name, "csv_folder", collector(inbox, name))
    assert_file_accounted(factory, inbox, name, result, len(rows), may_fail=False)


@FUZZ
@given(
    member=st.sampled_from(
        [
            "xl/worksheets/sheet1.xml",
            "xl/workbook.xml",
            "xl/styles.xml",
            "[Content_Types].xml",
            "xl/_rels/workbook.xml.rels",
            "xl/sharedStrings.xml",
        ]
    ),
    content=st.one_of(
        st.binary(max_size=200),
        st.sampled_from([b"", b"<<garbage", b"<?xml version='1.0'?><a>", b"\x00" * 50]),
    ),
    truncate=st.booleans(),
)
def test_corrupted_workbook_is_refused_whole(factory, tmp_path, member, content, truncate):
    """A damaged .xlsx is one quarantine entry and goes to failed/, never a stuck inbox."""
    name = source_name("badxlsx")
    inbox = new_inbox(tmp_path, name)
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["1", "T1", "2026-11-23 09:00", "热线", "车险", "广东", "拒赔", ""])
    good = io.BytesIO()
    workbook.save(good)
    source = zipfile.ZipFile(good)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for item in source.namelist():
            out.writestr(item, content if item == member else source.read(item))
        if member not in source.namelist():
            out.writestr(member, content)
    data = damaged.getvalue()
    (inbox / "export.xlsx").write_bytes(data[: len(data) // 2] if truncate else data)
    result = run(factory, name, "csv_folder", collector(inbox, name))
    assert_file_accounted(factory, inbox, name, result, 1, may_fail=True)


def test_ten_megabyte_fields_are_truncated_or_quarantined(factory, tmp_path):
    """A 10 MB complaint text is stored cut to 20,000 characters; a 10 MB id is quarantined."""
    name = source_name("csvbig")
    inbox = new_inbox(tmp_path, name)
    huge = "拒赔" * (TEN_MB // 6)  # ~10 MB in UTF-8
    rows = [
        ["1", "T-big-text", "2026-11-23 09:00", "热线", "车险", "广东", huge, ""],
        ["2", "I" * TEN_MB, "2026-11-23 09:01", "热线", "车险", "广东", "正常", ""],
    ]
    (inbox / "big.csv").write_bytes(csv_bytes(rows, "utf-8", []))
    result = run(factory, name, "csv_folder", collector(inbox, name))
    assert_file_accounted(factory, inbox, name, result, 2, may_fail=False)
    assert (result.inserted, result.quarantined) == (1, 1)
    [complaint] = complaints(factory, name)
    assert complaint.text == huge[:20_000]
