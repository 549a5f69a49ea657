"""投诉台账: complaints with their regulatory decision deadlines; overdue and due-soon stand out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard import cache, queries
from dashboard.deadlines import DAYS_BY_LEVEL, decision_due, due_status
from dashboard.i18n import STRINGS, Lang, channel_name, t
from dashboard.pages.common import holiday_calendar
from dashboard.settings import dashboard_settings
from dashboard.spreadsheet import csv_safe
from dashboard.timeutil import day_start, fmt_local
from dashboard.ui import current_user, lang
from domain.calendar import HolidayCalendar

# Overdue and due-soon rows stand out by a coloured mark on their status. A pandas Styler that
# paints whole rows cost 1.2 s of server time per run on 2,000 rows (issue 20's first screen).
STATUS_MARKS = {"overdue": "🔴 ", "due_soon": "🟠 "}
URGENT = ("overdue", "due_soon")
# Rows the table shows (the most urgent first); the figures above it count every complaint.
TABLE_ROWS = 2000
# Rows a CSV export holds: half a year of a national insurer's complaints.
EXPORT_ROWS = 200_000


def with_deadlines(
    frame: pd.DataFrame, now: datetime, mode: str, calendar: HolidayCalendar
) -> pd.DataFrame:
    """Adds level (0/1/2: 15/30/60 days), due_at and due_status (done/overdue/due_soon/ok).

    A complaint marked complex gets at least the 30-day extension; level 2 is the approved 60.
    """
    levels = [
        max(int(level or 0), 1 if complex_ else 0)
        for level, complex_ in zip(frame["extension_level"], frame["is_complex"], strict=True)
    ]
    due = [
        decision_due(r, level, mode, calendar)  # type: ignore[arg-type]
        for r, level in zip(frame["received_at"], levels, strict=True)
    ]
    status = [
        due_status(d, None if pd.isna(dec) else dec, now)
        for d, dec in zip(due, frame["decided_at"], strict=True)
    ]
    return frame.assign(due_at=due, due_status=status, level=levels)


def deadline_counts(
    receipts: pd.DataFrame, now: datetime, mode: str, calendar: HolidayCalendar
) -> dict[str, int]:
    """Complaints per deadline status (done/overdue/due_soon/ok) and in all ("total"), from
    ``queries.ledger_receipts``' counts per receipt day, level, complexity and decided flag."""
    counts = {"done": 0, "overdue": 0, "due_soon": 0, "ok": 0, "total": 0}
    for day, level, complex_, decided, n in receipts.itertuples(index=False):
        counts["total"] += int(n)
        if decided:
            counts["done"] += int(n)
            continue
        level = max(int(level or 0), 1 if complex_ else 0)
        due = decision_due(day_start(day, calendar.tz), level, mode, calendar)  # type: ignore[arg-type]
        counts[due_status(due, None, now)] += int(n)
    return counts


def ledger_table(frame: pd.DataFrame, language: Lang, with_text: bool, tz: tzinfo) -> pd.DataFrame:
    """The rows as the page and its CSV show them (``frame`` from ``with_deadlines``)."""
    show = pd.DataFrame(
        {
            "ID": frame["external_id"],
            t("received_at", language): [
                fmt_local(v, tz, "%Y-%m-%d %H:%M") for v in frame["received_at"]
            ],
            t("due_at", language): [
                fmt_local(v - timedelta(seconds=1), tz, "%Y-%m-%d %H:%M") for v in frame["due_at"]
            ],
            t("due_status", language): [t(f"due_{v}", language) for v in frame["due_status"]],
            t("status", language): [
                t(f"complaint_{v}", language) if f"complaint_{v}" in STRINGS else v
                for v in frame["status"]
            ],
            t("complex", language): [
                t("yes" if v else "no", language) for v in frame["is_complex"]
            ],
            t("time_limit", language): [
                t("days", language).format(n=DAYS_BY_LEVEL.get(v, 60)) for v in frame["level"]
            ],
            t("channel", language): [channel_name(c, language) for c in frame["channel"]],
            t("product", language): frame["product_name"],
            t("region", language): frame["region"],
            t("m_branch", language): frame["branch"],
            t("category", language): frame["category"],
        }
    )
    if with_text:
        show[t("text", language)] = frame["text"].to_numpy()
    return show


def ledger_csv(
    engine: Engine,
    span: tuple[datetime, datetime, tuple[str, ...], tuple[str, ...]],
    now: datetime,
    mode: str,
    calendar: HolidayCalendar,
    language: Lang,
    with_text: bool,
) -> bytes:
    """Every complaint of the span (up to ``EXPORT_ROWS``) as CSV, in the table's order; built
    when the download is clicked, not on every rerun. The page's overdue / due-soon switch
    narrows the table, never the export: the export is the ledger of the dates."""
    frame = with_deadlines(queries.ledger(engine, *span, limit=EXPORT_ROWS), now, mode, calendar)
    table = csv_safe(
        ledger_table(frame, language, with_text, calendar.tz)
    )  # complaint fields: no formulas
    # CRLF (RFC 4180): the writer then quotes a field holding a bare CR, which would split a row
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def render() -> None:
    language = lang()
    user = current_user()
    settings = dashboard_settings()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    st.title(t("page_ledger", language))
    mode = settings.deadline_days
    calendar = holiday_calendar()
    st.caption(
        f"{t('deadline_mode', language)}：{t(mode, language)}（RADAR_DEADLINE_DAYS）· 15 / 30 / 60"
    )
    today = calendar.local(now).date()
    c1, c2 = st.columns(2)
    start = c1.date_input(
        t("date_from", language), today - timedelta(days=30), key="ledger_from", format="YYYY-MM-DD"
    )
    end = c2.date_input(t("date_to", language), today, key="ledger_to", format="YYYY-MM-DD")
    statuses = st.multiselect(
        t("status", language),
        cache.slow("complaint_statuses"),
        key="ledger_status",
        format_func=lambda v: t(f"complaint_{v}", language) if f"complaint_{v}" in STRINGS else v,
        placeholder=t("filter_all", language),
    )
    branches = st.multiselect(
        t("m_branch", language),
        cache.slow("complaint_branches"),
        key="ledger_branch",
        placeholder=t("filter_all", language),
    )
    since, until = day_start(start, calendar.tz), day_start(end + timedelta(days=1), calendar.tz)
    span = (since, until, tuple(statuses), tuple(branches))
    # the figures first: a grouped count is sent to the browser before the table's rows load
    counts = deadline_counts(
        cache.slow("ledger_receipts", *span, calendar.tz.key), now, mode, calendar
    )
    if not counts["total"]:
        st.info(t("no_data", language))
        return
    m = st.columns(3)
    m[0].metric(t("overdue", language), counts["overdue"])
    m[1].metric(t("due_soon", language), counts["due_soon"])
    m[2].metric(t("total", language), counts["total"])
    frame = with_deadlines(cache.slow("ledger", *span, TABLE_ROWS), now, mode, calendar)
    if len(frame) < counts["total"]:
        st.caption(t("ledger_capped", language).format(shown=len(frame), total=counts["total"]))
    only_urgent = st.toggle(
        f"{t('overdue', language)} / {t('due_soon', language)}", key="ledger_urgent"
    )
    if only_urgent:
        frame = frame[frame["due_status"].isin(URGENT)].reset_index(drop=True)
    with_text = user is not None and user.can_read_texts
    show = ledger_table(frame, language, with_text, calendar.tz)
    status = t("due_status", language)
    show[status] = [
        STATUS_MARKS.get(v, "") + text
        for v, text in zip(frame["due_status"], show[status], strict=True)
    ]
    if show.empty:  # the switch on, nothing urgent: say so, not Streamlit's "empty"
        st.info(t("ledger_no_urgent", language))
    else:
        st.dataframe(show, hide_index=True, key="ledger_table")
    engine = cache.read_engine(cache.database_url())
    st.download_button(
        t("download_csv", language),
        lambda: ledger_csv(engine, span, now, mode, calendar, language, with_text),
        file_name=f"complaint-ledger-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        mime="text/csv",
        key="ledger_csv",
        help=t("ledger_export_help", language),
    )
