"""Read a CSV or Excel export into header + rows, detecting the encoding Chinese systems use."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from collectors.mapping import apply_columns, resolve_columns

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
_DELIMITERS = (",", "\t", ";", "|")
csv.field_size_limit(64 * 1024 * 1024)


class FileRejected(ValueError):
    """The whole file cannot be imported; nothing of it is stored and it goes to failed/."""


@dataclass
class Table:
    headers: list[str]
    rows: list[dict[str, Any]]
    problems: list[tuple[int, str, Any]] = field(default_factory=list)  # (line, reason, raw)
    encoding: str = ""


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"文件不是 {encoding} 编码 / not {encoding}: byte {exc.start}"
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")  # GB18030 is a superset of GBK and GB2312
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise FileRejected("无法识别的文件编码 / unknown encoding: not UTF-8, GBK or GB18030")


def _cell(value: Any) -> Any:
    """Excel stores phone numbers and ids as floats: 13812345678.0 must read as 13812345678."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def header_names(header: list[Any]) -> list[str]:
    headers = [str(h).strip() if h is not None else "" for h in header]
    if not any(headers):
        raise FileRejected("缺少表头 / the first row holds no column names")
    return headers


def table_row(
    headers: list[str], line: int, values: list[Any]
) -> dict[str, Any] | tuple[int, str, Any] | None:
    """One body row as a dict, a (line, reason, raw) problem, or None for a blank row."""
    if all(v is None or str(v).strip() == "" for v in values):
        return None
    if len(values) > len(headers) and any(str(v or "").strip() for v in values[len(headers) :]):
        reason = f"第{line}行字段数 {len(values)} 多于表头 {len(headers)} / too many fields"
        return (line, reason, values)
    padded = list(values) + [None] * (len(headers) - len(values))
    row = {h: _cell(v) for h, v in zip(headers, padded, strict=False) if h}
    row["_line"] = line
    return row


def _table(header: list[Any], body: list[tuple[int, list[Any]]], encoding: str) -> Table:
    table = Table(headers=header_names(header), rows=[], encoding=encoding)
    for line, values in body:
        row = table_row(table.headers, line, values)
        if isinstance(row, tuple):
            table.problems.append(row)
        elif row is not None:
            table.rows.append(row)
    return table


def _too_many_rows(limit: int) -> FileRejected:
    return FileRejected(f"行数超过上限 {limit:,} / more than {limit:,} rows in one file")


def _check_unpacked(source: Path | io.BytesIO, limit: int) -> None:
    """Refuse a workbook whose parts unpack to more than ``limit`` bytes (a compression bomb).

    An 812 KB workbook can expand to a million rows; the sizes in the zip directory bound what
    reading it may unpack (zipfile stops at the declared size), so they are checked first.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl reports the damaged file with its own reason
    finally:
        if isinstance(source, io.BytesIO):
            source.seek(0)
    if total > limit:
        raise FileRejected(
            f"Excel 解压后过大 {total / 1_048_576:,.0f} MB，上限 {limit / 1_048_576:,.0f} MB / "
            f"workbook unpacks to more than the limit"
        )


def read_csv(data: bytes, encoding: str = "auto", max_rows: int | None = None) -> Table:
    text, used = decode(data, encoding)
    text = text.replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise FileRejected("空文件 / empty file")
        body: list[tuple[int, list[str]]] = []
        for row in reader:
            if max_rows is not None and len(body) >= max_rows:
                raise _too_many_rows(max_rows)
            body.append((reader.line_num, row))
    except csv.Error as exc:
        raise FileRejected(
            f"CSV 格式错误 / malformed CSV at line {reader.line_num}: {exc}"
        ) from None
    return _table(header, body, used)


def read_xlsx(
    path: Path | bytes,
    sheet: str | None = None,
    max_rows: int | None = None,
    max_unpacked_bytes: int | None = None,
) -> Table:
    # A damaged workbook fails in many ways (bad zip, XML ParseError, KeyError, TypeError...),
    # at open or while rows are read lazily: each one refuses the file instead of blocking the inbox.
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    if max_unpacked_bytes is not None:
        _check_unpacked(source, max_unpacked_bytes)
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:
        raise FileRejected(
            f"无法打开 Excel 文件 / unreadable workbook: {type(exc).__name__}"
        ) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise FileRejected(f"没有工作表 {sheet!r} / no sheet {sheet!r}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        rows = []
        for i, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            if max_rows is not None and i > max_rows + 1:  # the header row and max_rows more
                raise _too_many_rows(max_rows)  # stops reading: memory stays bounded
            rows.append((i, list(values)))
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(f"Excel 文件已损坏 / damaged workbook: {type(exc).__name__}") from None
    finally:
        workbook.close()
    while rows and all(v is None for v in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise FileRejected("空工作表 / empty sheet")
    return _table(rows[0][1], rows[1:], "xlsx")


def read_table(
    path: Path,
    encoding: str = "auto",
    sheet: str | None = None,
    data: bytes | None = None,
    max_rows: int | None = None,
    max_unpacked_bytes: int | None = None,
) -> Table:
    """Any supported export; raises ``FileRejected`` with a reason a person can act on.

    ``data``: the file's bytes already read (the drop folder reads them without following links);
    ``max_rows`` and ``max_unpacked_bytes`` refuse files too big to hold in one batch.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data if data is not None else path, sheet, max_rows, max_unpacked_bytes)
    if suffix in (".csv", ".txt"):
        return read_csv(data if data is not None else path.read_bytes(), encoding, max_rows)
    raise FileRejected(f"不支持的文件类型 / unsupported file type {suffix or '(none)'}")


def row_id(record: dict[str, Any], seen: dict[str, int]) -> str:
    """A stable id for a row without one: its content, plus which copy of identical rows it is."""
    content = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
    digest = hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()[:32]
    seen[digest] = seen.get(digest, 0) + 1
    return f"row-{digest}-{seen[digest]}"


def required_columns(
    headers: list[str], overrides: dict[str, str], default_channel: str | None
) -> dict[str, str]:
    """The column mapping; refuses a file that lacks the time column or any channel."""
    columns = resolve_columns(headers, overrides)
    if "received_at" not in columns:
        wanted = overrides.get("received_at", "received_at / 受理时间")
        # The header line is file content (a linked system file's first line, say): never echoed.
        raise FileRejected(
            f"缺少时间列 / no time column ({wanted}); 表头共 {len(headers)} 列 / "
            f"{len(headers)} header columns"
        )
    if "channel" not in columns and not default_channel:
        raise FileRejected("缺少渠道列且未配置默认渠道 / no channel column and no default channel")
    return columns


def table_records(
    table: Table, overrides: dict[str, str], default_channel: str | None
) -> list[dict[str, Any]]:
    """Rows → record dicts through the column mapping; refuse a file that lacks the essentials."""
    columns = required_columns(table.headers, overrides, default_channel)
    records = []
    seen: dict[str, int] = {}
    for row in table.rows:
        records.append(row_record(row, columns, default_channel, seen))
    return records


def row_record(
    row: dict[str, Any], columns: dict[str, str], default_channel: str | None, seen: dict[str, int]
) -> dict[str, Any]:
    """One row through the column mapping, with a content id when it has none."""
    record = apply_columns(row, columns)
    if default_channel and not record.get("channel"):
        record["channel"] = default_channel
    if not record.get("id"):
        record["id"] = row_id(record, seen)
    record["_line"] = row["_line"]
    return record
