"""Pure Plotly figure builders: data in, figure out; no Streamlit and no database here.

Every label that can come from a source (product names, regions, titles) passes through
``plain()``: Plotly renders a subset of HTML in text, so user data is escaped first.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, cast

import pandas as pd
import plotly.graph_objects as go

from dashboard.alert_titles import row_title
from dashboard.i18n import Lang, state_name, t
from dashboard.timeutil import change_pct, fmt_local
from domain.severity import SEVERITY_SHORT, severity_style

BUCKET = "5min"  # complaint_counts' bucket (storage.ingest.BUCKET)

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#3e9bff", "#46c37b", "#ffb224", "#e5484d", "#a371f7", "#2ec8c8", "#f76b15"]
BACKGROUND = "rgba(0,0,0,0)"
DAY_MS = 86_400_000
# Plotly writes dates in English ("Dec 4, 2026"); Chinese pages read them the Chinese way: the
# date alone once ticks are a day or more apart, the clock over the date while they are hours
# apart (Plotly takes the first stop whose range holds the tick step).
ZH_DATE_TICKS = [
    {"dtickrange": [DAY_MS, None], "value": "%m月%d日"},
    {"dtickrange": [None, DAY_MS], "value": "%H:%M<br>%m月%d日"},
]
ZH_DATE_HOVER = "%Y-%m-%d %H:%M"


# A row under the chart, at the figure's foot: Plotly wraps its entries on a narrow screen and
# makes room for them below the axis's labels (a legend placed at a share of the plot's height
# ran into two-line date labels, and its rows into each other, on a 390-pixel phone).
LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0}
# st.plotly_chart's config: Plotly's toolbar, shown over the chart's top right corner, covered
# the title of a chart as narrow as a phone; nothing on these pages needs it.
PLOTLY_CONFIG = {"displayModeBar": False}


def plain(value: object) -> str:
    """User data as inert text for Plotly (which would otherwise interpret tags)."""
    return html.escape(str(value), quote=False)


def _layout(
    fig: go.Figure, title: str = "", height: int | None = 320, font_size: int = 16
) -> go.Figure:
    """``height`` None: the chart fills its container (the wall sizes its rows to the screen)."""
    fig.update_layout(
        title={"text": plain(title), "font": {"size": font_size + 4}} if title else None,
        height=height,
        autosize=height is None,
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=BACKGROUND,
        font={"family": FONT, "size": font_size, "color": "#e6e9ef"},
        hoverlabel={"font": {"size": font_size}},  # Plotly's own 13 px would not read on the wall
        legend=LEGEND,
        template="plotly_dark",
    )
    return fig


def time_axis(fig: go.Figure, lang: Lang) -> go.Figure:
    """The x axis of a chart over time in the page's language (English keeps Plotly's own)."""
    if lang == "zh":
        fig.update_xaxes(tickformatstops=ZH_DATE_TICKS, hoverformat=ZH_DATE_HOVER)
    return fig


def empty_state(fig: go.Figure, text: str) -> go.Figure:
    """A panel with nothing to draw says so in words, without empty axes."""
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=plain(text), showarrow=False, font={"size": 22, "color": "#8b93a7"},
                       xref="paper", yref="paper", x=0.5, y=0.5)  # fmt: skip
    return fig


def bar_figure(
    labels: list[str],
    values: list[int],
    title: str = "",
    height: int | None = 360,
    colour: str = "#3e9bff",
    empty_text: str = "无数据",
) -> go.Figure:
    """Horizontal bars, largest on top: top products, events, regions, channels."""
    if not len(values):
        return _layout(empty_state(go.Figure(), empty_text), title, height)
    fig = go.Figure(
        go.Bar(
            x=list(values)[::-1],
            y=[plain(label) for label in labels][::-1],
            orientation="h",
            marker_color=colour,
            text=list(values)[::-1],
            textposition="outside",  # beside the bar at full size, never shrunk or turned
            textangle=0,
            constraintext="none",  # Plotly would shrink the value to the bar's thickness
            cliponaxis=False,
        )
    )
    fig.update_xaxes(visible=False)  # the values are written on the bars
    fig.update_yaxes(tickfont={"size": 16})
    return _layout(fig, title, height)


def related_text(related: int, lang: Lang) -> str:
    return t("related_alerts", lang).format(n=related) if related else ""


def open_alerts_figure(
    alerts: pd.DataFrame,
    now: datetime,
    lang: Lang = "zh",
    height: int | None = None,
    *,
    tz: tzinfo,
    max_rows: int = 10,
) -> go.Figure:
    """The playlist's full-screen alert list: at most ``max_rows`` rows in type that reads from
    three metres, each firing row in its severity colour and each acknowledged row muted (its
    severity cell keeps the colour), with count, local start time, state and handler."""
    if alerts.empty:
        return _layout(empty_state(go.Figure(), t("no_active_alerts", lang)), "", height)
    headers = [
        t(k, lang) for k in ("severity", "title", "count", "col_started_at", "state", "handler")
    ]
    columns: list[list[str]] = [[] for _ in headers]
    level_style: list[tuple[str, str]] = []
    row_style: list[tuple[str, str]] = []
    for row in cast("Iterable[Any]", alerts.head(max_rows).itertuples(index=False)):
        acknowledged = str(row.state) == "acknowledged"
        values = [
            SEVERITY_SHORT.get(int(row.severity), str(row.severity)),
            plain(row_title(row, lang)) + related_text(getattr(row, "related", 0), lang),
            str(int(row.count)),
            fmt_local(row.started_at, tz, "%m-%d %H:%M"),
            ("✓ " if acknowledged else "● ") + state_name(str(row.state), lang),
            plain(row.acknowledged_by) if row.acknowledged_by else "—",
        ]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        level_style.append(severity_style(int(row.severity)))
        row_style.append(severity_style(int(row.severity), acknowledged))
    fig = go.Figure(
        go.Table(
            columnwidth=[0.8, 7, 1.2, 2.6, 2.2, 1.8],  # the start time on one line at 1366
            header={
                "values": headers,
                "fill_color": "#151b26",
                "font": {"size": 22, "color": "#e6e9ef"},
                "align": "left",
                "height": 44,
            },
            cells={
                "values": columns,
                "fill_color": [[f for f, _ in level_style]]
                + [[f for f, _ in row_style]] * (len(headers) - 1),
                "font": {
                    "size": 28,
                    "color": [[c for _, c in level_style]]
                    + [[c for _, c in row_style]] * (len(headers) - 1),
                },
                "align": "left",
                "height": 52,
            },
        )
    )
    return _layout(fig, "", height)


def region_rank_rows(today: pd.DataFrame, last_week: pd.DataFrame) -> pd.DataFrame:
    """Regions with complaints today, most first (then by name): columns rank, value, count,
    previous (same time last week, 0 when none) and change (percent, None without a base)."""
    previous = dict(zip(last_week["value"], last_week["count"], strict=True))
    rows = [
        (str(value), int(count), int(previous.get(value, 0)))
        for value, count in zip(today["value"], today["count"], strict=True)
        if int(count) > 0
    ]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return pd.DataFrame(
        [
            (rank, value, count, before, change_pct(count, before))
            for rank, (value, count, before) in enumerate(rows, start=1)
        ],
        columns=["rank", "value", "count", "previous", "change"],
    )


def _change_text(change: float | None, count: int, lang: Lang) -> str:
    if change is None or change != change:  # None, or NaN in a pandas column
        text = t("region_new", lang) if count else ""
    else:
        text = f"{change:+.0f}%"
    if not text:
        return ""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def region_rank_figure(
    rows: pd.DataFrame,
    lang: Lang = "zh",
    height: int | None = None,
    colour: str = "#f76b15",
    scale_max: int | None = None,
) -> go.Figure:
    """Ranked bars of ``region_rank_rows``: "3. 浙江" beside a bar labelled "42（+35%）",
    largest on top, in type larger than the wall's top six. ``scale_max``: the largest count
    of every column the ranking is split into, so equal counts draw equal bars."""
    if rows.empty:
        return _layout(empty_state(go.Figure(), t("no_data", lang)), "", height)
    labels = [f"{int(r.rank)}. {plain(r.value)}" for r in cast("Iterable[Any]", rows.itertuples())]
    texts = [
        f"{int(r.count)}{_change_text(r.change, int(r.count), lang)}"
        for r in cast("Iterable[Any]", rows.itertuples())
    ]
    fig = go.Figure(
        go.Bar(
            x=list(rows["count"])[::-1],
            y=labels[::-1],
            orientation="h",
            marker_color=colour,
            text=texts[::-1],
            textposition="outside",
            textangle=0,
            textfont={"size": 22},
            constraintext="none",
            cliponaxis=False,
        )
    )
    top = max(int(rows["count"].max()), scale_max or 0, 1)
    fig.update_xaxes(visible=False, range=[0, top * 1.45])  # room for "123（+45%）"
    fig.update_yaxes(tickfont={"size": 24})
    return _layout(fig, "", height, font_size=22)


BUCKET = pd.Timedelta(minutes=5)


def window_counts(trend: pd.DataFrame, window_minutes: int) -> pd.Series:
    """Complaints in the ``window_minutes`` before each 5-minute bucket's end: the quantity the
    rule compared with its expectation (empty buckets count as 0, not as missing)."""
    if trend.empty:
        return pd.Series(dtype=float)
    times = pd.to_datetime(trend["bucket_start"], utc=True)
    series = pd.Series(trend["count"].to_numpy(), index=times).groupby(level=0).sum()
    grid = pd.date_range(series.index.min(), series.index.max(), freq=BUCKET)
    series = series.reindex(grid, fill_value=0)
    width = max(1, int(window_minutes // 5))
    counts = series.rolling(width, min_periods=1).sum()
    counts.index = counts.index + BUCKET  # a value holds up to the end of its bucket
    return counts


def evidence_figure(
    trend: pd.DataFrame,
    window_minutes: int,
    expected: float,
    started_at: datetime | None,
    labels: Mapping[str, str],
    height: int = 320,
    *,
    tz: tzinfo,
    lang: Lang = "zh",
) -> go.Figure:
    """The alert's count and its expectation in one unit: complaints per rule window, drawn
    as a line over time against the expected level for that window (5-minute bars beside it
    would peak far below a 24-hour expectation and look as if nothing crossed)."""
    counts = window_counts(trend, window_minutes)
    times = cast(pd.DatetimeIndex, counts.index).tz_convert(tz)
    fig = go.Figure(
        go.Scatter(
            x=times, y=counts.to_numpy(), mode="lines", line={"color": "#3e9bff", "width": 3},
            name=plain(labels["count"]),
        )
    )  # fmt: skip
    if len(times):
        fig.add_trace(
            go.Scatter(
                x=[times[0], times[-1]], y=[expected, expected], mode="lines",
                line={"color": "#ffb224", "dash": "dot", "width": 2},
                name=plain(labels["expected"]),
            )
        )  # fmt: skip
    if started_at is not None:
        x = started_at.astimezone(tz)
        fig.add_shape(
            type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
            line={"color": "#e5484d", "dash": "dash", "width": 2},
        )  # fmt: skip
    return _layout(time_axis(fig, lang), labels["title"], height)


def throughput_figure(
    frame: pd.DataFrame, title: str = "", height: int = 300, *, tz: tzinfo, lang: Lang = "zh"
) -> go.Figure:
    """Records per hour (of ``tz``) per source, stacked."""
    fig = go.Figure()
    if not frame.empty:
        hourly = frame.assign(
            hour=pd.to_datetime(frame["bucket_start"], utc=True).dt.tz_convert(tz).dt.floor("h")
        )
        hourly = hourly.groupby(["hour", "source"], as_index=False)["count"].sum()
        for i, (source, part) in enumerate(hourly.groupby("source", sort=True)):
            fig.add_trace(
                go.Bar(
                    x=part["hour"],
                    y=part["count"],
                    name=plain(source),
                    marker_color=PALETTE[i % len(PALETTE)],
                )
            )
    fig.update_layout(barmode="stack")
    return _layout(time_axis(fig, lang), title, height)
