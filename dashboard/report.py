"""The weekly report: a chosen week against the previous one and the same week last year,
as data (for the page), Excel (openpyxl), charts (PNG/PDF via matplotlib, offline) and text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import Engine

from alerts.severity import SEVERITY_SHORT
from dashboard import queries
from dashboard.i18n import Lang, t
from dashboard.spreadsheet import append_row
from dashboard.timeutil import day_start

PERIODS = ("this", "prev", "last_year")
PERIOD_LABELS = {"this": "本周", "prev": "上周", "last_year": "去年同期"}
DIMENSIONS = {
    "category": "按类别",
    "channel": "按渠道",
    "product_line": "按险种",
    "region": "按地区",
}


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


def build_weekly_report(engine: Engine, week_start: date, top: int = 10) -> WeeklyReport:
    starts = period_starts(week_start)
    spans = {p: (day_start(d), day_start(d + timedelta(days=7))) for p, d in starts.items()}
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
        return "—"
    return f"{(current - previous) / previous * 100:+.1f}%"


def summary_rows(report: WeeklyReport, lang: Lang = "zh") -> list[tuple[str, str, str, str]]:
    """(metric, this week, previous week, same week last year) as display strings."""
    r, a = report.repeats, report.alerts

    def ack(p: str) -> str:
        median = a[p].median_ack_minutes
        return "—" if median is None else f"{median:.1f}"

    return [
        (t("total", lang), *(str(report.totals[p]) for p in PERIODS)),
        (t("repeat", lang), *(str(r[p].repeat) for p in PERIODS)),
        (t("multichannel", lang), *(str(r[p].multichannel) for p in PERIODS)),
        (t("alerts_raised", lang), *(str(a[p].raised) for p in PERIODS)),
        (t("ack_time", lang), *(ack(p) for p in PERIODS)),
    ]


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


def to_excel(report: WeeklyReport) -> bytes:
    """A workbook with a summary sheet and one sheet per breakdown."""
    book = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EE")
    sheet = book.active
    sheet.title = "汇总"
    sheet.append([f"投诉雷达周报 {report.week_start:%Y-%m-%d} 至 {report.week_end:%Y-%m-%d}"])
    sheet.append([])
    header = ["指标", *(f"{PERIOD_LABELS[p]}（{report.starts[p]:%m-%d}起）" for p in PERIODS)]
    sheet.append(header)
    for row in summary_rows(report):
        append_row(sheet, list(row))
    for note in report.notes:
        sheet.append([t(note)])
    _style_header(sheet, 3, len(header), bold, head_fill)
    for dimension, label in DIMENSIONS.items():
        ws = book.create_sheet(label)
        ws.append(["项目", *(PERIOD_LABELS[p] for p in PERIODS), "环比"])
        for row in report.by_dimension[dimension].itertuples(index=False):
            append_row(ws, [row.value, row.this, row.prev, row.last_year, _pct(row.this, row.prev)])
        _style_header(ws, 1, 5, bold, head_fill)
    ws = book.create_sheet("投诉最多产品")
    ws.append(["产品代码", "产品名称", "险种", "投诉量"])
    for row in report.top_products.itertuples(index=False):
        append_row(ws, [row.product_code, row.product_name, row.product_line, int(row.count)])
    _style_header(ws, 1, 4, bold, head_fill)
    for ws in book.worksheets:
        ws.column_dimensions["A"].width = 28
        for letter in "BCDE":
            ws.column_dimensions[letter].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _style_header(ws, row: int, width: int, font: Font, fill: PatternFill) -> None:
    for col in range(1, width + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = font
        cell.fill = fill


def _figure(report: WeeklyReport):
    """A one-page matplotlib figure with the report's charts (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = [
        "Noto Sans CJK SC",
        "Noto Sans CJK JP",
        "WenQuanYi Zen Hei",
        "Microsoft YaHei",
        "DejaVu Sans",
    ]
    plt.rcParams["axes.unicode_minus"] = False
    fig, axes = plt.subplots(3, 2, figsize=(11.7, 16.5))
    fig.suptitle(
        f"投诉雷达周报 {report.week_start:%Y-%m-%d} 至 {report.week_end:%Y-%m-%d}", fontsize=18
    )
    labels = [PERIOD_LABELS[p] for p in PERIODS]
    totals = [report.totals[p] for p in PERIODS]
    ax = axes[0][0]
    ax.bar(labels, totals, color=["#3e63dd", "#8da4ef", "#c2c9d6"])
    ax.set_title("投诉总量")
    for i, v in enumerate(totals):
        ax.annotate(str(v), (i, v), ha="center", va="bottom")
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
                label=PERIOD_LABELS[period],
            )
        ax.set_yticks(list(positions), [str(v) for v in frame["value"]])
        ax.invert_yaxis()
        ax.set_title(DIMENSIONS[dimension])
        ax.legend(fontsize=8)
    ax = axes[2][1]
    top = report.top_products.head(10)
    ax.barh([str(n) for n in top["product_name"]], top["count"], color="#e5484d")
    ax.invert_yaxis()
    ax.set_title("投诉最多产品（本周）")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def to_image(report: WeeklyReport, fmt: str = "pdf") -> bytes:
    """The charts as a PDF or PNG document."""
    if fmt not in ("pdf", "png"):
        raise ValueError(f"format must be pdf or png, got {fmt!r}")
    import matplotlib.pyplot as plt

    # Labels are outside text: "$\\x$" in a category would be parsed as mathtext and raise.
    with plt.rc_context({"text.parse_math": False, "text.usetex": False}):
        fig = _figure(report)
        out = io.BytesIO()
        try:
            fig.savefig(out, format=fmt, dpi=110)
        finally:
            plt.close(fig)
    return out.getvalue()
