"""One drop-folder file imported in batches of rows, resumable from a committed row offset.

The drop folder stores a file batch by batch (issue 19 item 7), each batch committed with a cursor
that names the file's hash and how many body rows are behind it. The collector keeps this object
open between fetches, so the next batch continues where the last one stopped; after a restart (or
a cursor that moved elsewhere) the file is opened again and the covered rows are skipped: they
were committed, so they are neither lost nor stored twice. Skipped rows still pass through the
content-id counter, so rows without an id get the same ids as in one pass.

Before any row is stored, the limits are checked whole: the unpacked size of a workbook, then a
counting pass over the rows against ``max_rows`` (memory stays flat: one row at a time).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from collectors.file_rows import DropFile
from collectors.files import (
    FileRejected,
    header_names,
    required_columns,
    row_record,
    table_row,
)

BATCH_ROWS = 5_000


class FileImport:
    """An open file positioned after ``position`` body rows (blank ones included)."""

    def __init__(self, path: Path, encoding: str, sheet: str | None) -> None:
        self.file = DropFile(path, encoding, sheet)
        self.position = 0
        self.totals = [0, 0, 0]  # inserted, duplicates, quarantined since this object opened
        self._rows: Generator[tuple[int, list[Any]], None, None] | None = None
        self._seen: dict[str, int] = {}
        self._done = False
        self._pending: tuple[int, list[Any]] | None = None  # a row read ahead to find the end

    @property
    def digest(self) -> str:
        return self.file.digest

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # openpyxl's workbook and the text wrapper, before the file
            self._rows = None
        self.file.close()

    def start(
        self,
        overrides: dict[str, str],
        channel: str | None,
        max_rows: int,
        max_unpacked_bytes: int,
        skip: int = 0,
    ) -> None:
        """Check the limits and the header, then skip ``skip`` committed body rows."""
        self.file.check_unpacked(max_unpacked_bytes)
        rows = self.file.rows()
        try:
            header = next(rows, None)
            if header is None:
                raise FileRejected("空文件 / empty file")
            for count, _ in enumerate(rows, 1):
                if count > max_rows:
                    raise FileRejected(
                        f"行数超过上限 {max_rows:,} / more than {max_rows:,} rows in one file"
                    )
        finally:
            rows.close()
        self.headers = header_names(header[1])
        self.columns = required_columns(self.headers, overrides, channel)
        self.channel = channel
        self._rows = self.file.rows()
        next(self._rows)
        for _ in range(skip):
            if self._next() is None:
                break

    def _next(self) -> tuple[dict[str, Any] | None, tuple[int, str, Any] | None] | None:
        """The next body row as (record, None), (None, problem), (None, None) if blank; None
        at the end."""
        assert self._rows is not None
        item, self._pending = self._pending or next(self._rows, None), None
        if item is None:
            self._done = True
            return None
        self.position += 1
        row = table_row(self.headers, *item)
        if row is None:
            return None, None
        if isinstance(row, tuple):
            return None, row
        return row_record(row, self.columns, self.channel, self._seen), None

    def batch(self, size: int = BATCH_ROWS) -> tuple[list[dict[str, Any]], list[tuple], bool]:
        """Up to ``size`` body rows: records, problems, and whether the file is finished."""
        records: list[dict[str, Any]] = []
        problems: list[tuple] = []
        for _ in range(size):
            item = self._next()
            if item is None:
                break
            record, problem = item
            if record is not None:
                records.append(record)
            elif problem is not None:
                problems.append(problem)
        if not self._done:  # a file of exactly n × size rows: look ahead once for its end
            self._done = self._peek_end()
        return records, problems, self._done

    def _peek_end(self) -> bool:
        assert self._rows is not None
        self._pending = next(self._rows, None)
        return self._pending is None
