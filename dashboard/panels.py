"""The wall's panels without Plotly: HTML tables and bars, and a Vega-Lite trend.

Plotly's browser chunk (4.7 MB) keeps a fresh browser's main thread busy for 1.3–2.8 s before
anything on the page shows (docs/PERFORMANCE.md, "Dashboard: first screen in a browser"), so the
wall draws its rankings and its alert table as HTML, whose type scales with the screen, and its
trend with the Vega-Lite chart Streamlit ships. Every string from outside passes through
``plain()`` before it is written into HTML: outside text is inert, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, cast

import altair as alt
import pandas as pd

from dashboard.alert_titles import row_title
from dashboard.charts import PALETTE, plain, related_text
from dashboard.i18n import Lang, channel_name, state_name, t
from dashboard.timeutil import age_text
from dashboard.value_names import value_name
from domain.severity import SEVERITY_SHORT, severity_style

BUCKET = "5min"  # complaint_counts' bucket (storage.ingest.BUCKET)


@dataclass(frozen=True)
class AlertTable:
    """The wall's alert rows, column by column; texts are already escaped for HTML.
    ``fills`` and ``inks`` hold one colour per cell, column by column, as ``columns`` does;
    ``related`` the note of each row's related alerts, kept apart from its title so that a
    long title never cuts it off."""

    headers: list[str]
    columns: list[list[str]]
    fills: list[list[str]]
    inks: list[list[str]]
    related: list[str] = field(default_factory=list)
    lang: Lang = "zh"


def alerts_table(alerts: pd.DataFrame, now: datetime, lang: Lang = "zh") -> AlertTable:
    """Active alerts, each firing row in its severity colour (Ⅰ red … Ⅳ blue, text at 4.5:1
    contrast or more), acknowledged rows muted (the severity cell keeps its colour); a
    ``related`` column (``alert_groups.fold_related``) becomes each row's note. Headers and
    states are the short ones of a narrow column."""
    keys = ("wall_severity", "title", "state", "age", "wall_handler", "wall_count")
    headers = [t(k, lang) for k in keys]
    columns: list[list[str]] = [[] for _ in headers]
    related: list[str] = []
    level_style: list[tuple[str, str]] = []
    row_style: list[tuple[str, str]] = []
    for row in cast("Iterable[Any]", alerts.itertuples(index=False)):
        since = row.started_at  # when the situation began (queries._alert_values)
        state = str(row.state)
        values = [
            SEVERITY_SHORT.get(int(row.severity), str(row.severity)),
            plain(row_title(row, lang)),
            t("wall_acknowledged", lang) if state == "acknowledged" else state_name(state, lang),
            age_text(now - since, lang),
            plain(row.acknowledged_by) if row.acknowledged_by else "—",
            str(int(row.count)),
        ]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        related.append(plain(related_text(getattr(row, "related", 0), lang).strip()))
        level_style.append(severity_style(int(row.severity)))
        row_style.append(severity_style(int(row.severity), str(row.state) == "acknowledged"))
    others = len(headers) - 1
    return AlertTable(
        headers=headers,
        columns=columns,
        fills=[[f for f, _ in level_style]] + [[f for f, _ in row_style]] * others,
        inks=[[c for _, c in level_style]] + [[c for _, c in row_style]] * others,
        related=related,
        lang=lang,
    )


def table_html(table: AlertTable, more: str = "") -> str:
    """The table as HTML; ``more`` (how many rows are left out) as its last line. The title
    (column 2) may wrap to two lines (``ui.WALL_CSS``), its related note beside it, never cut."""
    cells = "".join(f"<th>{plain(h)}</th>" for h in table.headers)
    rows = [f"<tr>{cells}</tr>"]
    for i in range(len(table.columns[0]) if table.columns else 0):
        texts = [column[i] for column in table.columns]
        note = table.related[i] if i < len(table.related) else ""
        texts[1] = f'<div class="radar-alert"><span class="radar-title">{texts[1]}</span>' + (
            f'<span class="radar-related">{note}</span></div>' if note else "</div>"
        )
        rows.append(
            "<tr>"
            + "".join(
                f'<td style="background:{fills[i]};color:{inks[i]}">{text}</td>'
                for text, fills, inks in zip(texts, table.fills, table.inks, strict=True)
            )
            + "</tr>"
        )
    if more:
        rows.append(
            f'<tr><td class="radar-more" colspan="{len(table.headers)}">{plain(more)}</td></tr>'
        )
    return (
        f'<div class="radar-panel radar-alerts"><table class="radar-table" lang="{table.lang}">'
        f"{''.join(rows)}</table></div>"
    )


def bars_html(
    labels: list[str], values: list[int], title: str, colour: str = "#3e9bff", empty_text: str = ""
) -> str:
    """Horizontal bars, largest on top, the value beside each bar in the label's type."""
    head = f"<h4>{plain(title)}</h4>"
    if not values:
        return f'<div class="radar-panel radar-bars">{head}<p class="radar-empty">{plain(empty_text)}</p></div>'
    top = max(max(values), 1)
    rows = "".join(
        f'<div class="radar-row"><span class="radar-label">{plain(label)}</span>'
        f'<span class="radar-track"><span class="radar-bar" '
        f'style="width:{80 * value / top:.1f}%;background:{colour}"></span>'
        f'<span class="radar-value">{int(value):,}</span></span></div>'
        for label, value in zip(labels, values, strict=True)
    )
    return f'<div class="radar-panel radar-bars">{head}<div class="radar-rows">{rows}</div></div>'


def channel_trend_grid(
    trend: pd.DataFrame,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    tz: tzinfo,
) -> pd.DataFrame:
    """Counts per 5-minute bucket (rows, local times in ``tz`` without a zone) and channel
    (columns). A bucket without complaints has no count row; it is 0 here, not bridged by a line
    from the buckets either side. ``since``/``until`` extend the buckets to the whole window."""
    if trend.empty:
        return pd.DataFrame()
    grid = trend.pivot_table(
        index="bucket_start", columns="channel", values="count", aggfunc="sum", fill_value=0
    )
    grid.index = pd.to_datetime(grid.index, utc=True)
    first = grid.index.min() if since is None else pd.Timestamp(since).floor(BUCKET)
    last = grid.index.max() if until is None else pd.Timestamp(until)
    buckets = pd.date_range(first, last, freq=BUCKET)
    if until is not None:
        buckets = buckets[buckets < last]
    grid = grid.reindex(buckets, fill_value=0).astype(int)
    grid.index = cast(pd.DatetimeIndex, grid.index).tz_convert(tz).tz_localize(None)
    return grid[sorted(grid.columns)]


def wall_type(vh: float, least_rem: float, most_rem: float) -> alt.ExprRef:
    """Type that follows the screen's height as the wall's CSS does, ``clamp(least_rem,
    vh, most_rem)`` (dashboard.ui.WALL_CSS), in pixels for Vega: a chart's type is set in its
    spec, where a CSS rule would not reach (Vega lays the text out in the sizes it was given)."""
    return alt.ExprRef(
        expr=f"clamp(windowSize()[1] * {vh / 100:g}, {least_rem * 16:g}, {most_rem * 16:g})"
    )


WALL_TEXT = wall_type(2, 0.9, 3)  # the HTML panels' type (.radar-panel)
WALL_HEADING = wall_type(2.2, 0.99, 3.3)  # the panels' headings (.radar-panel h4, 1.1em)
WALL_SYMBOL = alt.ExprRef(expr=f"pow({WALL_TEXT.expr}, 2)")  # an area: a swatch 1 em long


def channel_trend_chart(grid: pd.DataFrame, lang: Lang) -> alt.Chart:
    """One line per channel over the grid's local times (drawn as they are: a UTC scale of
    zone-less times, so the browser's own zone never shifts them), the clock on the axis."""
    names = [channel_name(str(c), lang) for c in grid.columns]
    long = (
        grid.set_axis(names, axis=1)
        .rename_axis("time")
        .reset_index()
        .melt(id_vars="time", var_name="channel", value_name="count")
    )
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    return (
        alt.Chart(long, title=t("trend_by_channel", lang))
        .mark_line(strokeWidth=3)
        .encode(
            x=alt.X(
                "time:T", title=None, axis=alt.Axis(format="%H:%M"), scale=alt.Scale(type="utc")
            ),
            y=alt.Y("count:Q", title=None, axis=alt.Axis(tickMinStep=1)),  # whole complaints
            color=alt.Color(
                "channel:N",
                title=None,
                scale=alt.Scale(domain=names, range=colours),
                legend=alt.Legend(  # to the right: a row below squashes it
                    orient="right",
                    labelFontSize=WALL_TEXT,
                    symbolSize=WALL_SYMBOL,
                    symbolStrokeWidth=4,
                    labelLimit=alt.ExprRef(expr=f"8 * {WALL_TEXT.expr}"),  # 8 em, not 160 px
                    rowPadding=0,
                ),
            ),
        )
        .properties(height="container")
        .configure_axis(labelFontSize=WALL_TEXT)
        .configure_title(fontSize=WALL_HEADING)
    )


TEXT_COLOUR = "#e6e9ef"  # the dark theme's text (dashboard.charts' font colour)
# A legend below the chart is one row, cut off where the chart ends: in a phone's chart (under
# 420 pixels wide) its entries stand one under the other instead.
LEGEND_COLUMNS = alt.ExprRef(expr="containerSize()[0] < 420 ? 1 : 0")


def _dark(chart: alt.Chart | alt.LayerChart, height: int) -> alt.Chart | alt.LayerChart:
    return (
        chart.properties(height=height)
        .configure_axis(labelFontSize=14)
        .configure_legend(labelFontSize=14, orient="bottom", columns=LEGEND_COLUMNS)
        .configure_title(fontSize=18)
    )


def comparison_chart(
    frame: pd.DataFrame,
    series: Mapping[str, str],
    title: str = "",
    height: int = 320,
    *,
    dimension: str = "",
    lang: Lang = "zh",
) -> alt.Chart | alt.LayerChart:
    """Grouped bars per ``value`` of ``dimension`` for several periods; ``series`` maps column
    → legend label. Values are named in ``lang`` (``value_names``: a channel, category or
    product line; products and regions as they are). Vega-Lite draws text as text (never
    markup), so labels go in as they are."""
    frame = frame.assign(value=[value_name(dimension, str(v), lang) for v in frame["value"]])
    present = [c for c in series if c in frame]
    long = frame[["value", *present]].melt(id_vars="value", var_name="period", value_name="count")
    long["period"] = long["period"].map(series)
    labels = [series[c] for c in present]
    return _dark(
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            x=alt.X("value:N", title=None, sort=list(frame["value"]), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("period:N", sort=labels),
            y=alt.Y("count:Q", title=None),
            color=alt.Color(
                "period:N",
                title=None,
                sort=labels,
                scale=alt.Scale(domain=labels, range=PALETTE[: len(labels)]),
            ),
        ),
        height,
    )


def ranking_chart(
    labels: list[str],
    values: list[int],
    title: str = "",
    colour: str = "#3e9bff",
    height: int = 360,
) -> alt.Chart | alt.LayerChart:
    """Horizontal bars, largest on top, each value written beside its bar (never turned)."""
    frame = pd.DataFrame({"label": labels, "count": values})
    base = alt.Chart(frame, title=title).encode(
        y=alt.Y("label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
        x=alt.X("count:Q", title=None, axis=None),
    )
    bars = base.mark_bar(color=colour)
    # Vega-Lite writes text in black unless told: unreadable on the dark theme
    text = base.mark_text(align="left", dx=4, fontSize=14, color=TEXT_COLOUR).encode(text="count:Q")
    return _dark(alt.LayerChart(layer=[bars, text]), height)
