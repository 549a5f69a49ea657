"""No exported cell is a live formula (issue 19 item 2, OWASP CSV injection).

Complaint fields beginning with = + - @ tab or CR go through the weekly workbook (which the
Monday e-mail attaches) and the ledger CSV as inert text; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from dashboard.pages.ledger import ledger_csv
from dashboard.report import build_weekly_report, to_excel
from dashboard.spreadsheet import TRIGGERS, csv_cell, risky
from dashboard.timeutil import day_start
from domain.calendar import HolidayCalendar
from tests.dashboard.seed import complaint, ingest
from tests.hostile.corpus import FORMULAS

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

WEEK = date(2026, 11, 16)  # a Monday


def _seed(engine, at: datetime) -> None:
    rows = [
        complaint(
            i, at + timedelta(minutes=i), "hotline",
            product_code=formula, product_name=formula, product_line=formula[:32],
            region=formula[:32], category=formula[:32], event_tag=formula, text=formula,
        )
        for i, formula in enumerate(FORMULAS)
    ]  # fmt: skip
    ingest(engine, rows)


def test_weekly_workbook_holds_no_formula(engine):
    _seed(engine, day_start(WEEK, CALENDAR.tz) + timedelta(hours=3))
    data = to_excel(build_weekly_report(engine, WEEK, CALENDAR))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [
            archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")
        ]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)
    book = load_workbook(io.BytesIO(data))
    cells = [
        c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for formula in FORMULAS[:4]:  # shown as typed, quote-prefixed so Excel keeps it text
        assert formula in texts
    hyperlink = next(c for c in cells if c.value == FORMULAS[0])
    assert hyperlink.quotePrefix
    counts = [
        ws.cell(row=r, column=4).value
        for ws in [book["本周投诉最多产品"]]
        for r in range(2, ws.max_row + 1)
    ]
    assert counts and all(isinstance(v, int) for v in counts)


def test_ledger_csv_holds_no_formula(engine):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    _seed(engine, now - timedelta(days=1))
    span = (now - timedelta(days=3), now + timedelta(days=1), (), ())
    text = ledger_csv(engine, span, now, "calendar", CALENDAR, "zh", with_text=True).decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(FORMULAS)
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if risky(cell)], cells
    assert "'" + FORMULAS[0] in cells


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(), st.sampled_from(TRIGGERS).flatmap(lambda t: st.text().map(lambda s: t + s))
    )
)
def test_property_csv_cells_never_start_a_formula_and_keep_their_text(value):
    cell = csv_cell(value)
    assert not risky(cell)
    assert cell == value or cell == "'" + value


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.none()))
def test_property_numbers_stay_numbers(value):
    assert csv_cell(value) is value
