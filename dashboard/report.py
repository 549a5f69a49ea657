"""The weekly report: a chosen week against the previous one and the same week last year,
as data (for the page), Excel (openpyxl), charts (PNG/PDF via matplotlib, offline) and text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import Engine

from dashboard import queries
from dashboard.cjk_font import sans_serif
from dashboard.i18n import Lang, figure, severity_name, sheet_value, t
from dashboard.spreadsheet import append_row
from dashboard.timeutil import change_pct, day_start
from dashboard.value_names import value_name
from domain.calendar import HolidayCalendar
from domain.severity import SEVERITY_SHORT

PERIODS = ("this", "prev", "last_year")
# The dimensions the weekly report breaks totals down by, with their section titles (i18n keys).
DIMENSION_KEYS = {
    "category": "by_category",
    "channel": "by_channel",
    "product_line": "by_product_line",
    "region": "by_region",
}
DIMENSIONS = tuple(DIMENSION_KEYS)


@dataclass(frozen=True)
class WeeklyReport:
    week_start: date
    starts: dict[str, date]
    totals: dict[str, int]
    by_dimension: dict[str, pd.DataFrame]
    top_products: pd.DataFrame
    repeats: dict[str, queries.RepeatStats]
    alerts: dict[str, queries.AlertStats]
    notes: list[str] = field(default_factory=list)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def period_starts(week_start: date) -> dict[str, date]:
    """This week, the previous week and the same ISO-aligned week 52 weeks earlier (all Mondays)."""
    if week_start.weekday() != 0:
        raise ValueError(f"a report week starts on Monday, got {week_start} ({week_start:%A})")
    return {
        "this": week_start,
        "prev": week_start - timedelta(days=7),
        "last_year": week_start - timedelta(days=364),
    }


def build_weekly_report(
    engine: Engine, week_start: date, calendar: HolidayCalendar, top: int = 10
) -> WeeklyReport:
    """The local week from ``week_start`` (a Monday) against the one before and a year before."""
    starts = period_starts(week_start)
    tz = calendar.tz
    spans = {p: (day_start(d, tz), day_start(d + timedelta(days=7), tz)) for p, d in starts.items()}
    by_dimension = {}
    for dimension in DIMENSIONS:
        merged: pd.DataFrame | None = None
        for period, (since, until) in spans.items():
            part = queries.dimension_totals(engine, dimension, since, until)
            part = part.rename(columns={"count": period})
            merged = part if merged is None else merged.merge(part, on="value", how="outer")
        assert merged is not None
        merged = merged.fillna(0)
        for period in PERIODS:
            merged[period] = merged[period].astype(int)
        by_dimension[dimension] = merged.sort_values(["this", "value"], ascending=[False, True])
    this_since, this_until = spans["this"]
    totals = {p: int(by_dimension["channel"][p].sum()) for p in PERIODS}
    notes = []
    if totals["last_year"] == 0:
        notes.append("no_last_year")  # a key of dashboard.i18n
    return WeeklyReport(
        week_start=week_start,
        starts=starts,
        totals=totals,
        by_dimension={k: v.reset_index(drop=True) for k, v in by_dimension.items()},
        top_products=queries.top_products(engine, this_since, this_until, limit=top),
        repeats={p: queries.repeat_stats(engine, *spans[p]) for p in PERIODS},
        alerts={p: queries.alert_stats(engine, *spans[p]) for p in PERIODS},
        notes=notes,
    )


def _pct(current: int, previous: int) -> str:
    if previous <= 0:
        return t("no_data")  # nothing to compare with: no data, as on the page and in the files
    return f"{(current - previous) / previous * 100:+.1f}%"


PERIOD_KEYS = {"this": "this_week", "prev": "prev_week", "last_year": "last_year"}
Cell = int | float | None  # None: no data for that period (never a fake 0)


def has_data(report: WeeklyReport, period: str) -> bool:
    return report.totals[period] > 0


def summary_rows(report: WeeklyReport, lang: Lang = "zh") -> list[tuple[str, Cell, Cell, Cell]]:
    """(metric, this week, previous week, same week last year) as numbers; None where the
    period holds no complaints at all (a fresh installation has no last year)."""
    r, a = report.repeats, report.alerts
    metrics = [
        ("total", lambda p: report.totals[p]),
        ("repeat", lambda p: r[p].repeat),
        ("multichannel", lambda p: r[p].multichannel),
        ("alerts_raised", lambda p: a[p].raised),
        ("ack_time", lambda p: a[p].median_ack_minutes),
    ]
    rows = [
        (t(key, lang), *(value(p) if has_data(report, p) else None for p in PERIODS))
        for key, value in metrics
    ]
    return cast("list[tuple[str, Cell, Cell, Cell]]", rows)  # one cell per period


def cell_text(value: Cell, lang: Lang = "zh") -> str:
    """A summary cell for the page: thousands separators, one decimal, 无数据 for None."""
    return figure(value, lang, ",.1f" if isinstance(value, float) else ",")


def summary_text(report: WeeklyReport, dashboard_url: str = "") -> str:
    """Plain text for the Monday message (no markup, so no channel renders user data)."""
    t = report.totals
    lines = [
        f"投诉雷达周报 {report.week_start:%Y-%m-%d} 至 {report.week_end:%Y-%m-%d}",
        f"投诉总量 {t['this']} 件，环比 {_pct(t['this'], t['prev'])}，同比 {_pct(t['this'], t['last_year'])}",
        f"重复投诉 {report.repeats['this'].repeat} 件，多渠道投诉 {report.repeats['this'].multichannel} 件",
    ]
    alerts = report.alerts["this"]
    levels = "，".join(f"{SEVERITY_SHORT.get(k, k)}级 {v}" for k, v in alerts.by_severity.items())
    ack = alerts.median_ack_minutes
    lines.append(
        f"触发告警 {alerts.raised} 条{('（' + levels + '）') if levels else ''}"
        + (f"，确认用时中位数 {ack:.0f} 分钟" if ack is not None else "")
    )
    if not report.top_products.empty:
        top = "、".join(
            f"{row.product_name}({row.count})" for row in report.top_products.head(5).itertuples()
        )
        lines.append(f"投诉最多产品：{top}")
    if dashboard_url:
        lines.append(f"详情：{dashboard_url.rstrip('/')}/weekly")
    return "\n".join(lines)


def to_excel(report: WeeklyReport, lang: Lang = "zh") -> bytes:
    """A workbook with a summary sheet and one sheet per breakdown, in the page's language;
    numbers are stored as numbers, channels by their names."""
    book = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EE")
    sheet = book.active
    sheet.title = t("summary", lang)
    sheet.append([title(report, lang)])
    sheet.append([])
    header = [t("metric", lang), *(period_label(report, p, lang) for p in PERIODS)]
    sheet.append(header)
    for row in summary_rows(report, lang):
        append_row(sheet, [row[0], *(sheet_value(v, lang) for v in row[1:])])
    for note in report.notes:
        sheet.append([t(note, lang)])
    _style_header(sheet, 3, len(header), bold, head_fill)
    for dimension, key in DIMENSION_KEYS.items():
        ws = book.create_sheet(t(key, lang))
        ws.append([t("item", lang), *(t(PERIOD_KEYS[p], lang) for p in PERIODS), t("wow", lang)])
        for row in cast("Iterable[Any]", report.by_dimension[dimension].itertuples(index=False)):
            label = value_name(dimension, str(row.value), lang)
            change = change_pct(row.this, row.prev)
            append_row(
                ws,
                [
                    label,
                    row.this,
                    row.prev,
                    row.last_year,
                    sheet_value(None if change is None else change / 100, lang),
                ],
            )
            ws.cell(row=ws.max_row, column=5).number_format = "+0.0%;-0.0%;0.0%"
        _style_header(ws, 1, 5, bold, head_fill)
    ws = book.create_sheet(t("top_products_week", lang))
    ws.append(
        [t("product_code", lang), t("product", lang), t("product_line", lang), t("count", lang)]
    )
    for row in cast("Iterable[Any]", report.top_products.itertuples(index=False)):
        line = value_name("product_line", str(row.product_line), lang)
        append_row(ws, [row.product_code, row.product_name, line, int(row.count)])
    _style_header(ws, 1, 4, bold, head_fill)
    for ws in book.worksheets:
        ws.column_dimensions["A"].width = 28
        for letter in "BCDE":
            ws.column_dimensions[letter].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def title(report: WeeklyReport, lang: Lang = "zh") -> str:
    return t("weekly_title", lang).format(start=report.week_start, end=report.week_end)


def period_label(report: WeeklyReport, period: str, lang: Lang) -> str:
    start = report.starts[period]
    return f"{t(PERIOD_KEYS[period], lang)} ({start:%m-%d})"


def _style_header(ws, row: int, width: int, font: Font, fill: PatternFill) -> None:
    for col in range(1, width + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = font
        cell.fill = fill


def _figure(report: WeeklyReport, lang: Lang):
    """A one-page matplotlib figure with the report's charts and its alert summary (Agg backend:
    no display needed), in the page's language."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = sans_serif()
    plt.rcParams["axes.unicode_minus"] = False
    fig, axes = plt.subplots(3, 2, figsize=(11.7, 16.5))
    fig.suptitle(title(report, lang), fontsize=18)
    fig.text(0.5, 0.955, alert_summary(report, lang), ha="center", fontsize=11)
    labels = [t(PERIOD_KEYS[p], lang) for p in PERIODS]
    totals = [report.totals[p] for p in PERIODS]
    ax = axes[0][0]
    ax.bar(labels, totals, color=["#3e63dd", "#8da4ef", "#c2c9d6"])
    ax.set_title(t("total", lang))
    for i, v in enumerate(totals):
        ax.annotate(f"{v:,}" if v or has_data(report, PERIODS[i]) else t("no_data", lang),
                    (i, v), ha="center", va="bottom")  # fmt: skip
    for ax, dimension in zip(
        [axes[0][1], axes[1][0], axes[1][1], axes[2][0]], DIMENSIONS, strict=True
    ):
        frame = report.by_dimension[dimension].head(10)
        positions = range(len(frame))
        width = 0.27
        for k, period in enumerate(PERIODS):
            ax.barh(
                [p + (k - 1) * width for p in positions],
                frame[period],
                height=width,
                label=t(PERIOD_KEYS[period], lang),
            )
        names = [value_name(dimension, str(v), lang) for v in frame["value"]]
        ax.set_yticks(list(positions), names)
        ax.invert_yaxis()
        ax.set_title(t(DIMENSION_KEYS[dimension], lang))
        ax.legend(fontsize=8)
    ax = axes[2][1]
    top = report.top_products.head(10)
    ax.barh([str(n) for n in top["product_name"]], top["count"], color="#e5484d")
    ax.invert_yaxis()
    ax.set_title(t("top_products_week", lang))
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def alert_summary(report: WeeklyReport, lang: Lang = "zh") -> str:
    """One line for the PDF: alerts raised by level and the median time to acknowledge (in
    minutes; 无数据 / No data, without a unit, when no alert was acknowledged)."""
    alerts = report.alerts["this"]
    levels = ", ".join(
        f"{severity_name(k, lang).split()[0]} {v}" for k, v in sorted(alerts.by_severity.items())
    )
    ack = alerts.median_ack_minutes
    return t("alert_summary_line", lang).format(
        raised=alerts.raised,
        levels=f" ({levels})" if levels else "",
        ack=figure(ack, lang, ".0f", "n_minutes"),
    )


def to_image(report: WeeklyReport, fmt: str = "pdf", lang: Lang = "zh") -> bytes:
    """The charts as a PDF or PNG document."""
    if fmt not in ("pdf", "png"):
        raise ValueError(f"format must be pdf or png, got {fmt!r}")
    import matplotlib.pyplot as plt

    # Labels are outside text: "$\\x$" in a category would be parsed as mathtext and raise.
    with plt.rc_context({"text.parse_math": False, "text.usetex": False}):
        fig = _figure(report, lang)
        out = io.BytesIO()
        try:
            fig.savefig(out, format=fmt, dpi=110)
        finally:
            plt.close(fig)
    return out.getvalue()
