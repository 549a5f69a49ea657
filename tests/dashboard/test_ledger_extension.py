"""The ledger's deadline follows the extension level: 15, 30 or 60 days after receipt."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from dashboard import queries
from dashboard.pages.ledger import with_deadlines
from domain.calendar import HolidayCalendar
from storage.models import Complaint
from tests.dashboard.seed import complaint, ingest

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

RECEIVED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_extension_levels_give_15_30_and_60_days(engine):
    ingest(engine, [complaint(i, RECEIVED, "hotline") for i in range(1, 5)])
    with engine.begin() as conn:
        conn.execute(update(Complaint).where(Complaint.external_id == "c2").values(is_complex=True))
        conn.execute(
            update(Complaint).where(Complaint.external_id == "c3").values(extension_level=1)
        )
        conn.execute(
            update(Complaint).where(Complaint.external_id == "c4").values(extension_level=2)
        )
    frame = queries.ledger(
        engine, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    )
    now = datetime(2026, 11, 20, tzinfo=UTC)
    result = with_deadlines(frame.sort_values("external_id"), now, "calendar", CALENDAR)
    due_dates = [d.date() for d in result["due_at"]]
    assert list(result["level"]) == [0, 1, 1, 2]
    days = [(d - RECEIVED.date()).days for d in due_dates]
    assert days[0] < days[1] == days[2] < days[3]
    assert list(result["due_status"]) == ["overdue", "ok", "ok", "ok"]


def test_csv_export_holds_every_complaint(engine):
    from dashboard.pages.ledger import ledger_csv

    now = datetime(2026, 11, 20, tzinfo=UTC)
    ingest(engine, [complaint(i, RECEIVED, "hotline") for i in range(1, 4)])  # overdue on the 20th
    ingest(engine, [complaint(9, now, "web")])
    span = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC), (), ())
    every = ledger_csv(engine, span, now, "calendar", CALENDAR, "en", with_text=False).decode(
        "utf-8-sig"
    )
    lines = every.splitlines()
    assert lines[0].startswith("ID,Received,Decision due,Deadline") and "Text" not in lines[0]
    assert len(lines) == 5 and lines[1].startswith("c1,")
    assert ",No," in lines[1] and "False" not in every  # words, not Python's booleans
    assert sum(",Overdue," in line for line in lines) == 3  # and the one not due beside them
