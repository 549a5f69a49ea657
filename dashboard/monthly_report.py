"""The monthly accountability report: built from the database for one cycle, and written as
Excel (openpyxl), PDF (matplotlib, offline) and plain text for the closing-day message."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import Engine

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from storage.models import MonthlySnapshot

from config.rules import AccountabilityConfig
from dashboard import monthly_queries as mq
from dashboard.cjk_font import sans_serif
from dashboard.deadlines import DayMode
from dashboard.i18n import Lang, channel_name, figure, missing, sheet_value, t
from dashboard.monthly import (
    SUMMARY_COLUMNS,
    TOTAL,
    Cycle,
    MonthlyReport,
    previous_cycle,
    same_cycle_last_year,
    tally,
    upgraded_ids,
)
from dashboard.spreadsheet import append_row
from dashboard.timeutil import day_start
from domain.calendar import HolidayCalendar
from storage.repeats import REPEAT_WINDOW

SUMMARY_HEADERS = (
    "m_branch",
    "m_received",
    "m_counted",
    "repeat",
    "m_upgraded",
    "multichannel",
    "m_overdue",
    "m_score",
    "m_prev",
    "m_last_year",
    "m_mom",
    "m_yoy",
)


# How old a snapshot of the open cycle the page still shows (its figures say when they were
# counted), and how many of the cycle's complaints stored since it may miss: the worker writes
# one every few minutes, counting it live takes a second or more on a national insurer's
# history, and a monthly page is visited too rarely to be cached. A backfill or a worker
# catching up after an outage misses more: the page then counts live.
OPEN_SNAPSHOT_MAX_AGE = timedelta(minutes=15)
OPEN_SNAPSHOT_MAX_MISSING = 0.01


def span(cycle: Cycle, tz: tzinfo) -> tuple[datetime, datetime]:
    """The cycle as UTC instants [local midnight of its first day, of the day after its last)."""
    return day_start(cycle.start, tz), day_start(cycle.end + timedelta(days=1), tz)


def frozen_parts(
    engine: Engine, cycle: Cycle, config: AccountabilityConfig, calendar: HolidayCalendar
) -> dict[str, Any]:
    """What a closed cycle's report counts that only a late complaint changes: per branch and
    channel counts (multi-channel ones are replaced by live ones), upgrades per branch, the
    previous cycle's and last year's totals. Plain JSON, as stored in a snapshot."""
    since, until = span(cycle, calendar.tz)
    window = timedelta(days=config.upgrade_window_days)
    escalations = mq.escalation_rows(engine, since, until, since - window, config.channel_levels)
    upgraded = upgraded_ids(escalations, config.channel_levels, window)
    in_cycle = escalations[escalations["id"].isin(upgraded) & (escalations["received_at"] >= since)]
    # Once per channel reached, as complaints are counted: a repeat there is not a new upgrade.
    in_cycle = in_cycle.sort_values(["received_at", "id"]).drop_duplicates(
        ["customer_key", "product_code", "channel"]
    )
    previous = previous_cycle(cycle, config.cycle_start_day)
    last_year = same_cycle_last_year(cycle, config.cycle_start_day)
    counts = mq.branch_channel_counts(engine, since, until)
    return {
        "counts": {column: counts[column].tolist() for column in mq.COUNT_COLUMNS},
        "upgraded": {str(b): int(n) for b, n in in_cycle.groupby("branch").size().items()},
        "prev": mq.branch_totals(engine, *span(previous, calendar.tz)),
        "last_year": mq.branch_totals(engine, *span(last_year, calendar.tz)),
    }


def snapshot_key(cycle: Cycle, config: AccountabilityConfig, calendar: HolidayCalendar) -> str:
    """The cycle and every rule its frozen parts depend on (weights are applied on reading)."""
    rules = {
        "start": cycle.start.isoformat(),
        "end": cycle.end.isoformat(),
        "tz": calendar.tz.key,
        "start_day": config.cycle_start_day,
        "window": config.upgrade_window_days,
        "levels": sorted(config.channel_levels.items()),
    }
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()


def fingerprint(
    engine: Engine, cycle: Cycle, config: AccountabilityConfig, calendar: HolidayCalendar
) -> str:
    """The complaints stored where the frozen parts were counted from: a late complaint of
    the cycle, the previous one, the upgrade look-back, the repeat window before the cycle or
    last year's cycle changes it (two counts on the receipt index)."""
    since, until = span(cycle, calendar.tz)
    previous = span(previous_cycle(cycle, config.cycle_start_day), calendar.tz)
    lookback = since - max(timedelta(days=config.upgrade_window_days), REPEAT_WINDOW)
    last_year = span(same_cycle_last_year(cycle, config.cycle_start_day), calendar.tz)
    recent = mq.stored_between(engine, min(previous[0], lookback), until)
    return f"{recent}/{mq.stored_between(engine, *last_year)}"


def freeze_monthly_report(
    engine: Engine,
    cycle: Cycle,
    config: AccountabilityConfig,
    now: datetime,
    *,
    calendar: HolidayCalendar,
) -> bool:
    """Write the snapshot of a cycle unless a matching one is stored; True if written. The
    fingerprint is taken first: a complaint stored meanwhile makes the next check redo it. An
    open cycle's snapshot stops matching with its next complaint; the page may use it a while
    longer (``_recent_enough``)."""
    key, stamp = snapshot_key(cycle, config, calendar), fingerprint(engine, cycle, config, calendar)
    stored = mq.load_snapshot(engine, key)
    if stored is not None and stored.fingerprint == stamp:
        return False
    parts = frozen_parts(engine, cycle, config, calendar)
    mq.save_snapshot(engine, key, cycle.name, now, stamp, parts)
    return True


def _recent_enough(
    engine: Engine, snapshot: MonthlySnapshot, since: datetime, until: datetime, now: datetime
) -> bool:
    """An open cycle's snapshot [since, until) no older than OPEN_SNAPSHOT_MAX_AGE that misses
    at most OPEN_SNAPSHOT_MAX_MISSING of the cycle's complaints stored now."""
    if now >= until or snapshot.built_at < now - OPEN_SNAPSHOT_MAX_AGE:
        return False
    counted = sum(snapshot.parts["counts"]["received"])
    return mq.stored_between(engine, since, until) - counted <= OPEN_SNAPSHOT_MAX_MISSING * counted


def build_monthly_report(
    engine: Engine,
    cycle: Cycle,
    config: AccountabilityConfig,
    now: datetime,
    mode: DayMode = "calendar",
    *,
    calendar: HolidayCalendar,
    frozen: bool = True,
) -> MonthlyReport:
    """The report at ``now``: from the cycle's snapshot when one matches what is stored, or,
    for the open cycle, when it is recent and misses few of its complaints (``_recent_enough``;
    the worker's job writes both; ``frozen`` False: never), else counted from the complaints.
    Overdue decisions and multi-channel complaints are always counted now: both still change
    after the cycle closed, by decisions and by later complaints."""
    since, until = span(cycle, calendar.tz)
    snapshot = mq.load_snapshot(engine, snapshot_key(cycle, config, calendar)) if frozen else None
    if snapshot is not None and snapshot.fingerprint != fingerprint(
        engine, cycle, config, calendar
    ):  # counted from other complaints than are stored now
        snapshot = snapshot if _recent_enough(engine, snapshot, since, until, now) else None
    parts = (
        snapshot.parts if snapshot is not None else frozen_parts(engine, cycle, config, calendar)
    )
    live = mq.live_counts(engine, since, until, now, mode, calendar)
    keys = {"branch": str, "channel": str}  # also when empty, for the merge
    counts = pd.DataFrame(parts["counts"], columns=mq.COUNT_COLUMNS).astype(keys)
    counts = counts.drop(columns="multichannel").merge(
        live[mq.LIVE_COLUMNS[:3]].astype(keys), on=["branch", "channel"], how="left"
    )
    counts[mq.COUNT_COLUMNS[2:]] = counts[mq.COUNT_COLUMNS[2:]].fillna(0).astype(int)
    summary, by_channel = tally(
        counts[mq.COUNT_COLUMNS],
        parts["upgraded"],
        {str(b): int(n) for b, n in live.groupby("branch")["overdue"].sum().items()},
        config.weights,
        parts["prev"],
        parts["last_year"],
    )
    return MonthlyReport(
        cycle,
        previous_cycle(cycle, config.cycle_start_day),
        same_cycle_last_year(cycle, config.cycle_start_day),
        summary,
        by_channel,
        dict(config.weights),
        as_of=now,
        frozen_at=snapshot.built_at if snapshot is not None else None,
    )


def branch_label(branch: str, lang: Lang) -> str:
    if branch == TOTAL:
        return t("m_total", lang)
    return branch or t("m_no_branch", lang)


def pct_text(value: float | None, lang: Lang) -> str:
    return t("no_data", lang) if value is None or missing(value) else f"{value * 100:+.1f}%"


def empty_cycles(report: MonthlyReport) -> set[str]:
    """The compared cycles' columns ("prev", "last_year") whose cycle holds no complaint at all
    (a new installation has no last year): no data, not 0. A branch's 0 in a cycle that has
    complaints is a real 0."""
    total = report.summary[report.summary["branch"] == TOTAL]
    return {c for c in ("prev", "last_year") if total.empty or int(total.iloc[0][c]) == 0}


def summary_cells(report: MonthlyReport) -> list[list[Any]]:
    """The summary's rows (SUMMARY_COLUMNS) with None where there is no data, for the workbook
    and the PDF as on the page: an empty compared cycle, and a change against nothing."""
    empty = empty_cycles(report)
    return [
        [
            None if column in empty or missing(v) else v
            for column, v in zip(SUMMARY_COLUMNS, row, strict=True)
        ]
        for row in cast("Iterable[Any]", report.summary.itertuples(index=False))
    ]


def title(report: MonthlyReport, lang: Lang) -> str:
    c = report.cycle
    return t("m_title", lang).format(name=c.name, start=c.start, end=c.end)


def to_excel(report: MonthlyReport, lang: Lang = "zh") -> bytes:
    """Summary per branch, branch × channel and the weights used: numbers stay numbers."""
    book = Workbook()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EE")
    ws = book.active
    ws.title = t("m_sheet_summary", lang)
    ws.append([title(report, lang)])
    ws.append([])
    ws.append([t(h, lang) for h in SUMMARY_HEADERS])
    for row in summary_cells(report):
        values = [*row[1:10], *(v if v is None else round(v, 4) for v in row[10:12])]
        append_row(ws, [branch_label(row[0], lang), *(sheet_value(v, lang) for v in values)])
    for col in range(1, len(SUMMARY_HEADERS) + 1):
        ws.cell(row=3, column=col).font = bold
        ws.cell(row=3, column=col).fill = fill
    for r in range(4, ws.max_row + 1):
        for col in (11, 12):
            ws.cell(row=r, column=col).number_format = "0.0%"
    ws.column_dimensions["A"].width = 24
    sheet = book.create_sheet(t("m_sheet_channels", lang))
    channels = list(report.by_channel.columns)
    sheet.append([t("m_branch", lang), *(channel_name(c, lang) for c in channels)])
    for branch, counts in report.by_channel.iterrows():
        append_row(sheet, [branch_label(str(branch), lang), *(int(v) for v in counts)])
    weights = book.create_sheet(t("m_sheet_weights", lang))
    weights.append([t("channel", lang), t("m_weight", lang)])
    for code, weight in report.weights.items():
        weights.append([channel_name(code, lang), float(weight)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Summary rows on the PDF's first page (under the chart) and on each page after it: a national
# insurer has some 70 branch offices, more than one page holds legibly.
FIRST_PAGE_ROWS = 30
NEXT_PAGE_ROWS = 60
PAGE_SIZE = (11.7, 16.5)  # inches, A3 portrait


def to_pdf(report: MonthlyReport, lang: Lang = "zh") -> bytes:
    """The weighted score of the top branches as a chart, then the summary table of every
    branch, continued on further pages when there are more than the first page holds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    rc: dict[RcKeyType, Any] = {
        "font.sans-serif": sans_serif(),
        "axes.unicode_minus": False,
        "text.parse_math": False,  # branch names are outside text
        "text.usetex": False,
    }
    body = report.summary[report.summary["branch"] != TOTAL].head(15)
    cells = [
        [
            branch_label(r[0], lang),
            *(figure(v, lang) for v in r[1:10]),
            pct_text(r[10], lang),
        ]
        for r in summary_cells(report)
    ] or [[t("no_data", lang)] + [""] * 10]
    pages = [cells[:FIRST_PAGE_ROWS]] + [
        cells[i : i + NEXT_PAGE_ROWS] for i in range(FIRST_PAGE_ROWS, len(cells), NEXT_PAGE_ROWS)
    ]
    headers = [t(h, lang) for h in SUMMARY_HEADERS[:11]]
    out = io.BytesIO()
    with plt.rc_context(rc), PdfPages(out) as pdf:
        for number, rows in enumerate(pages):
            if number == 0:
                fig, (chart, table) = plt.subplots(2, 1, figsize=PAGE_SIZE)
                labels = [branch_label(b, lang) for b in body["branch"]]
                chart.barh(labels, body["score"], color="#3e63dd")
                chart.invert_yaxis()
                chart.set_title(t("m_score", lang))
                for i, v in enumerate(body["score"]):
                    chart.annotate(f"{v:.1f}", (v, i), va="center")
            else:
                fig, table = plt.subplots(1, 1, figsize=PAGE_SIZE)
            fig.suptitle(f"{title(report, lang)}  {number + 1}/{len(pages)}", fontsize=16)
            table.axis("off")
            grid = table.table(cellText=rows, colLabels=headers, loc="upper center")
            grid.auto_set_font_size(False)
            grid.set_fontsize(8)
            fig.tight_layout(rect=(0, 0, 1, 0.97))
            try:
                pdf.savefig(fig)
            finally:
                plt.close(fig)
    return out.getvalue()


def summary_text(report: MonthlyReport, lang: Lang = "zh") -> str:
    """Plain text for the closing-day message (no markup: branch names are outside text)."""
    total = report.summary[report.summary["branch"] == TOTAL]
    lines = [title(report, lang)]
    if total.empty:
        lines.append(t("m_empty", lang))
        return "\n".join(lines)
    row = total.iloc[0]
    lines.append(
        t("m_text_totals", lang).format(
            received=int(row["received"]),
            counted=int(row["counted"]),
            upgraded=int(row["upgraded"]),
            overdue=int(row["overdue"]),
            mom=pct_text(row["mom"], lang),
            yoy=pct_text(row["yoy"], lang),
        )
    )
    top = report.summary[report.summary["branch"] != TOTAL].head(3)
    lines.append(
        t("m_text_top", lang)
        + "、".join(
            f"{branch_label(r.branch, lang)} {r.score:.1f}"
            for r in cast("Iterable[Any]", top.itertuples())
        )
    )
    return "\n".join(lines)
