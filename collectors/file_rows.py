"""Read a drop-folder file as a stream of rows, so memory does not grow with the file's size.

A 300,000-row export read whole held every row, record and complaint at once (issue 19 item 7).
Here a file is opened without following links, hashed and its encoding found in one pass over
fixed-size chunks, and its rows are then produced one at a time from the open handle (CSV through
a text wrapper, Excel through openpyxl's read-only mode). ``DropFile.rows`` can be restarted
from the beginning as often as needed: a first pass counts rows against ``max_rows`` before
anything is stored, and a resumed import skips the rows a committed cursor already covers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import stat
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

import openpyxl

from collectors.files import _DELIMITERS, FileRejected, _check_unpacked

CHUNK = 1 << 20


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file, without following a link."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise OSError(0, "not a regular file")
    return handle


def _decodes(handle: IO[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    handle.seek(0)
    try:
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


class DropFile:
    """One open export: its size, content hash, encoding and a way to read its rows."""

    def __init__(self, path: Path, encoding: str = "auto", sheet: str | None = None) -> None:
        self.path, self.sheet = path, sheet
        self.handle = open_regular(path)
        try:
            digest = hashlib.sha256()
            self.size = 0
            while chunk := self.handle.read(CHUNK):
                digest.update(chunk)
                self.size += len(chunk)
            self.digest = digest.hexdigest()[:32]  # 128 bits tell exports apart
            self.encoding = "xlsx" if self.is_excel else self._encoding(encoding)
        except BaseException:
            self.handle.close()  # a refused file is moved to failed/ next: no handle left open
            raise

    @property
    def is_excel(self) -> bool:
        return self.path.suffix.lower() in (".xlsx", ".xlsm")

    def close(self) -> None:
        self.handle.close()

    def _encoding(self, wanted: str) -> str:
        """The same choice as ``files.decode``, made over chunks instead of the whole text."""
        self.handle.seek(0)
        start = self.handle.read(3)
        if wanted != "auto":
            candidates: tuple[str, ...] = (wanted,)
        elif start.startswith(b"\xef\xbb\xbf"):
            candidates = ("utf-8-sig",)
        elif start.startswith((b"\xff\xfe", b"\xfe\xff")):
            candidates = ("utf-16",)
        else:
            candidates = ("utf-8", "gb18030")
        for candidate in candidates:
            if _decodes(self.handle, candidate):
                return candidate
        if wanted != "auto":
            raise FileRejected(f"文件不是 {wanted} 编码 / not {wanted}")
        raise FileRejected("无法识别的文件编码 / unknown encoding: not UTF-8, GBK or GB18030")

    def check_unpacked(self, limit: int) -> None:
        if self.is_excel:
            self.handle.seek(0)
            _check_unpacked(self.handle, limit)  # type: ignore[arg-type]

    def rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        """(line, values) from the first row (the header) on; raises ``FileRejected``."""
        self.handle.seek(0)
        return self._xlsx_rows() if self.is_excel else self._csv_rows()

    def _csv_rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        text = io.TextIOWrapper(self.handle, encoding=self.encoding, newline="")
        try:
            first = text.readline()
            delimiter = max(_DELIMITERS, key=first.replace("\x00", "").count)
            text.seek(0)
            reader = csv.reader((line.replace("\x00", "") for line in text), delimiter=delimiter)
            try:
                for values in reader:
                    yield reader.line_num, values
            except csv.Error as exc:
                raise FileRejected(
                    f"CSV 格式错误 / malformed CSV at line {reader.line_num}: {exc}"
                ) from None
        finally:
            if not self.handle.closed:
                text.detach()  # the handle stays open for the next pass

    def _xlsx_rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        # A damaged workbook fails in many ways, at open or while rows are read lazily: each
        # one refuses the file instead of blocking the inbox.
        try:
            workbook = openpyxl.load_workbook(self.handle, read_only=True, data_only=True)
        except Exception as exc:
            raise FileRejected(
                f"无法打开 Excel 文件 / unreadable workbook: {type(exc).__name__}"
            ) from None
        try:
            if self.sheet is not None and self.sheet not in workbook.sheetnames:
                raise FileRejected(f"没有工作表 {self.sheet!r} / no sheet {self.sheet!r}")
            sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
            started = False
            for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
                started = started or any(v is not None for v in values)
                if started:  # blank rows above the header are skipped, as in files.read_xlsx
                    yield line, list(values)
        except FileRejected:
            raise
        except Exception as exc:
            raise FileRejected(
                f"Excel 文件已损坏 / damaged workbook: {type(exc).__name__}"
            ) from None
        finally:
            workbook.close()
