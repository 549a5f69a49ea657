"""The drop folder against real files: GBK, UTF-8 with BOM, Excel, malformed, re-dropped."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import openpyxl
import pytest

from collectors.csv_folder import CsvFolderCollector
from config.sources import CsvFolderSource
from tests.collectors.helpers import complaints, counted, quarantined, run, state, stored_ids

CHINESE_HEADER = "工单号,受理时间,渠道,险种,省份,投诉类别,投诉内容,客户电话\n"
CHINESE_ROWS = (
    "T1,2026/11/23 09:15:00,热线,安心百万医疗,广东省,理赔,理赔拖延一个月,13812345678\n"
    "T2,2026-11-23 09:20,电话,安心医疗险,粤,理赔,拒赔不合理,13912345678\n"
    "T3,2026年11月23日 09时30分,官网,尊享车险,浙江,销售,误导销售,\n"
)
PRODUCTS = [
    {
        "code": "HLT-001",
        "name": "安心百万医疗险",
        "line": "健康险",
        "aliases": ["安心百万医疗", "安心医疗险"],
    }
]


def collector(inbox: Path, clock=time.time, **overrides) -> CsvFolderCollector:
    config = {
        "name": "hotline",
        "kind": "csv_folder",
        "inbox": inbox,
        "products": PRODUCTS,
        "settle_seconds": 0,  # files here are complete when written; the settle tests set it
    }
    return CsvFolderCollector(CsvFolderSource.model_validate({**config, **overrides}), clock)


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_gbk_file_with_chinese_headers_maps_cleanly(factory, inbox):
    (inbox / "hotline.csv").write_bytes((CHINESE_HEADER + CHINESE_ROWS).encode("gbk"))
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.quarantined, result.error) == (3, 0, "")
    rows = {c.external_id: c for c in complaints(factory, "hotline")}
    assert rows["T1"].product_code == "HLT-001" and rows["T2"].product_code == "HLT-001"
    assert rows["T2"].product_name == "安心百万医疗险" and rows["T2"].product_line == "健康险"
    assert rows["T3"].product_code == "尊享车险"  # unknown product kept, keyed by its name
    assert rows["T3"].product_name == "尊享车险"
    assert (rows["T1"].region, rows["T2"].region) == ("广东", "广东")
    assert (rows["T1"].channel, rows["T2"].channel, rows["T3"].channel) == (
        "hotline",
        "hotline",
        "web",
    )
    assert rows["T1"].received_at.isoformat() == "2026-11-23T01:15:00+00:00"
    assert rows["T3"].received_at.isoformat() == "2026-11-23T01:30:00+00:00"
    assert rows["T1"].customer_key and rows["T1"].customer_key != rows["T2"].customer_key
    assert (inbox / "done" / "hotline.csv").exists()
    assert "3 新增" in (inbox / "done" / "hotline.csv.result.txt").read_text(encoding="utf-8")
    assert counted(factory, "hotline") == 3


def test_utf8_bom_and_gb18030_files(factory, inbox):
    (inbox / "a.csv").write_bytes((CHINESE_HEADER + CHINESE_ROWS).encode("utf-8-sig"))
    other = CHINESE_HEADER + "T9,2026-11-23 10:00,热线,𠀀险,广东,理赔,内容,\n"
    (inbox / "b.csv").write_bytes(other.encode("gb18030"))
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.quarantined) == (4, 0)
    assert stored_ids(factory, "hotline") == ["T1", "T2", "T3", "T9"]
    assert sorted(p.name for p in (inbox / "done").glob("*.csv")) == ["a.csv", "b.csv"]


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_kept(factory, inbox):
    body = (
        "T1,2026-11-23 09:15,热线,安心医疗险,广东,理赔,好的一行,\n"
        "T2,,热线,安心医疗险,广东,理赔,缺时间,\n"
        "T3,昨天下午,热线,安心医疗险,广东,理赔,时间看不懂,\n"
        "T4,2026-11-23 09:16,飞鸽传书,安心医疗险,广东,理赔,渠道未知,\n"
        "T5,2026-11-23 09:17,热线,安心医疗险,广东,理赔,多了字段,,多余1,多余2\n"
        "T6,2026-11-23 09:18,热线,安心医疗险,广东,理赔,最后一行好的,13812345678\n"
    )
    (inbox / "mixed.csv").write_text(CHINESE_HEADER + body, encoding="utf-8")
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.quarantined) == (2, 4)
    assert stored_ids(factory, "hotline") == ["T1", "T6"]
    reasons = sorted(q.reason for q in quarantined(factory, "hotline"))
    assert reasons[0] == "missing received_at"
    assert any("unknown channel" in r for r in reasons)
    assert any("unparseable received_at" in r for r in reasons)
    assert any("too many fields" in r for r in reasons)
    assert (inbox / "done" / "mixed.csv").exists()
    assert state(factory, "hotline").quarantined_last_run == 4


def test_xlsx_file(factory, inbox):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "受理编号",
            "受理时间",
            "受理渠道",
            "险种名称",
            "所属省份",
            "投诉类型",
            "诉求内容",
            "联系电话",
        ]
    )
    from datetime import datetime

    sheet.append(
        [
            "X1",
            datetime(2026, 11, 23, 9, 0),
            "热线",
            "安心医疗险",
            "广东省",
            "理赔",
            "慢",
            13812345678,
        ]
    )
    sheet.append(["X2", "2026-11-23 09:05", "APP", "安心医疗险", "湖北", "服务", "差", None])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["X3", None, "热线", "安心医疗险", "湖北", "服务", "没有时间", None])
    workbook.save(inbox / "export.xlsx")
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.quarantined) == (2, 1)
    rows = {c.external_id: c for c in complaints(factory, "hotline")}
    assert rows["X1"].received_at.isoformat() == "2026-11-23T01:00:00+00:00"
    assert rows["X2"].channel == "app" and rows["X1"].product_code == "HLT-001"


def test_malformed_files_go_to_failed_with_a_reason(factory, inbox):
    (inbox / "broken.xlsx").write_bytes(b"this is not a zip file")
    (inbox / "binary.csv").write_bytes(bytes(range(128, 256)) * 10)
    (inbox / "notime.csv").write_text("工单号,渠道\nA,热线\n", encoding="utf-8")
    (inbox / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.quarantined, result.error) == (0, 4, "")
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir() if not p.name.endswith(".txt")) == [
        "binary.csv",
        "broken.xlsx",
        "legacy.xls",
        "notime.csv",
    ]
    assert "缺少时间列" in (failed / "notime.csv.reason.txt").read_text(encoding="utf-8")
    assert "编码" in (failed / "binary.csv.reason.txt").read_text(encoding="utf-8")
    reasons = [q.reason for q in quarantined(factory, "hotline")]
    assert all(r.startswith("file rejected:") for r in reasons) and len(reasons) == 4
    assert list(inbox.glob("*.*")) == []


def test_same_file_dropped_twice_is_imported_once(factory, inbox, tmp_path):
    data = (CHINESE_HEADER + CHINESE_ROWS).encode("gbk")
    (inbox / "day1.csv").write_bytes(data)
    assert run(factory, "hotline", "csv_folder", collector(inbox)).inserted == 3
    (inbox / "day1-copy.csv").write_bytes(data)
    (inbox / "day1.csv").write_bytes(data)  # same name again too
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.duplicates, result.fetched) == (0, 0, 0)
    assert stored_ids(factory, "hotline") == ["T1", "T2", "T3"]
    assert len(list((inbox / "done").glob("*.csv"))) == 3
    notes = [p.read_text(encoding="utf-8") for p in (inbox / "done").glob("*.result.txt")]
    assert sum("已导入过" in n for n in notes) == 2
    assert counted(factory, "hotline") == 3


def test_rows_without_ids_get_stable_ids_so_a_reexport_does_not_double(factory, inbox):
    header = "受理时间,渠道,险种,投诉内容\n"
    rows = (
        "2026-11-23 09:00,热线,安心医疗险,一样的投诉\n" * 2
        + "2026-11-23 09:01,热线,安心医疗险,另一条\n"
    )
    (inbox / "a.csv").write_text(header + rows, encoding="utf-8")
    assert run(factory, "hotline", "csv_folder", collector(inbox)).inserted == 3
    # Re-exported in another encoding and order: different bytes, same complaints.
    reordered = (
        header
        + "2026-11-23 09:01,热线,安心医疗险,另一条\n"
        + "2026-11-23 09:00,热线,安心医疗险,一样的投诉\n" * 2
    )
    (inbox / "b.csv").write_bytes(reordered.encode("gbk"))
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert (result.inserted, result.duplicates) == (0, 3)
    assert len(stored_ids(factory, "hotline")) == 3


def test_interrupted_move_finishes_without_reimport(factory, inbox):
    data = (CHINESE_HEADER + CHINESE_ROWS).encode("utf-8")
    (inbox / "a.csv").write_bytes(data)
    run(factory, "hotline", "csv_folder", collector(inbox))
    # Simulate a crash after commit but before the move: the file is back in the inbox.
    shutil.move(inbox / "done" / "a.csv", inbox / "a.csv")
    result = run(factory, "hotline", "csv_folder", collector(inbox))
    assert result.inserted == 0 and not (inbox / "a.csv").exists()
    assert len(stored_ids(factory, "hotline")) == 3


def test_missing_inbox_is_a_recorded_failure(factory, tmp_path):
    result = run(factory, "hotline", "csv_folder", collector(tmp_path / "nope"))
    assert "inbox folder missing" in result.error
    health = state(factory, "hotline")
    assert health.consecutive_failures == 1 and health.last_error
    run(factory, "hotline", "csv_folder", collector(tmp_path / "nope"))
    assert state(factory, "hotline").consecutive_failures == 2


def test_backtest_header_is_accepted_by_default(factory, inbox):
    header = "id,received_at,channel,product_code,product_name,product_line,region,category,event_tag,text\n"
    row = "b1,2026-11-23T09:00:00+08:00,hotline,CAR-001,安心车险,车险,广东,理赔,台风,慢\n"
    (inbox / "bt.csv").write_text(header + row, encoding="utf-8")
    assert run(factory, "hotline", "csv_folder", collector(inbox)).inserted == 1
    (c,) = complaints(factory, "hotline")
    assert (c.product_code, c.event_tag, c.region) == ("CAR-001", "台风", "广东")


def test_configured_column_mapping_and_default_channel(factory, inbox):
    (inbox / "crm.csv").write_text(
        "单号,来电日期,业务\nK1,2026-11-23 09:00,安心医疗险\n", encoding="utf-8"
    )
    source = collector(
        inbox,
        columns={"id": "单号", "received_at": "来电日期", "product_name": "业务"},
        channel="热线",
    )
    assert run(factory, "hotline", "csv_folder", source).inserted == 1
    (c,) = complaints(factory, "hotline")
    assert (c.external_id, c.channel, c.product_code) == ("K1", "hotline", "HLT-001")


class Clock:
    """The wall clock as the collector sees it, moved on by the test instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_file_still_being_uploaded_waits_until_it_settles(factory, inbox, caplog):
    caplog.set_level(logging.INFO, logger="collectors.csv_folder")
    clock = Clock()
    source = collector(inbox, clock, settle_seconds=10)
    data = (CHINESE_HEADER + CHINESE_ROWS).encode("gbk")
    half = data.index(b"T2") + 10  # ends in the middle of row T2
    path = inbox / "upload.csv"
    with path.open("wb") as upload:  # a slow SFTP upload straight to .csv: part one
        upload.write(data[:half])
        upload.flush()
        result = run(factory, "hotline", "csv_folder", source)
        assert (result.fetched, result.inserted, result.quarantined, result.error) == (0, 0, 0, "")
        assert "modified 0s ago" in source.waiting["upload.csv"]
        clock.now += 6
        upload.write(data[half:])  # part two, six seconds later
        upload.flush()
    os.utime(path, ns=(time.time_ns(), int((clock.now - 1) * 1e9)))  # written just now
    clock.now += 1
    result = run(factory, "hotline", "csv_folder", source)
    assert (result.fetched, result.inserted) == (0, 0)
    assert "still being written" in source.waiting["upload.csv"]
    clock.now += 5  # unchanged, but for less than settle_seconds
    assert run(factory, "hotline", "csv_folder", source).inserted == 0
    assert "unchanged for 5s of 10s" in source.waiting["upload.csv"]
    note = state(factory, "hotline").note  # the source page says why nothing came in
    assert note.startswith("1 个文件等待导入") and "upload.csv" in note and "5s of 10s" in note
    assert stored_ids(factory, "hotline") == [] and quarantined(factory, "hotline") == []
    assert path.exists() and not (inbox / "done").exists()
    clock.now += 5
    result = run(factory, "hotline", "csv_folder", source)
    assert (result.inserted, result.quarantined, result.error) == (3, 0, "")
    assert stored_ids(factory, "hotline") == ["T1", "T2", "T3"] and source.waiting == {}
    assert state(factory, "hotline").note == ""
    assert (inbox / "done" / "upload.csv").read_bytes() == data
    waits = [r.getMessage() for r in caplog.records if "waits" in r.getMessage()]
    assert len(waits) == 2 and all("upload.csv" in w for w in waits)  # once per new state


def test_old_file_imports_at_first_look_and_a_waiting_one_blocks_nothing(factory, inbox):
    clock = Clock()
    data = (CHINESE_HEADER + CHINESE_ROWS).encode("utf-8")
    (inbox / "old.csv").write_bytes(data)
    os.utime(inbox / "old.csv", (clock.now - 60, clock.now - 60))
    (inbox / "new.csv").write_text(CHINESE_HEADER + "T7,2026-11-23 09:", encoding="utf-8")
    os.utime(inbox / "new.csv", (clock.now - 3, clock.now - 3))
    source = collector(inbox, clock, settle_seconds=10)
    result = run(factory, "hotline", "csv_folder", source)
    assert (result.inserted, result.quarantined) == (3, 0)
    assert list(source.waiting) == ["new.csv"] and (inbox / "new.csv").exists()
    # A clock ahead of ours stamps the file in the future: unchanged across looks still settles.
    os.utime(inbox / "new.csv", (clock.now + 3600, clock.now + 3600))
    assert run(factory, "hotline", "csv_folder", source).inserted == 0
    clock.now += 10
    result = run(factory, "hotline", "csv_folder", source)
    assert (result.inserted, result.quarantined) == (0, 1)  # the truncated row, with a reason
    assert stored_ids(factory, "hotline") == ["T1", "T2", "T3"]
