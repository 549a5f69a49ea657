"""Chart builders are pure: data in, Plotly figure out; user text is escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import charts, panels
from dashboard.ui import WALL_CSS
from domain.severity import ACKNOWLEDGED_FILL, contrast_ratio, severity_style

SHANGHAI = ZoneInfo("Asia/Shanghai")

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _trend() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bucket_start": [NOW, NOW, NOW + timedelta(minutes=5)],
            "channel": ["hotline", "web", "hotline"],
            "count": [3, 1, 4],
        }
    )


def test_channel_trend_has_one_line_per_channel_in_shanghai_time():
    grid = panels.channel_trend_grid(_trend(), tz=SHANGHAI)
    assert list(grid.columns) == ["hotline", "web"]
    assert list(grid["hotline"]) == [3, 4]
    assert grid.index[0].hour == 12  # 04:00 UTC is 12:00 in Shanghai
    chart = panels.channel_trend_chart(grid, "zh").to_dict()
    assert chart["encoding"]["color"]["scale"]["domain"] == ["热线", "网页表单"]
    english = panels.channel_trend_chart(grid, "en").to_dict()
    assert english["encoding"]["color"]["scale"]["domain"][0] == "Hotline"
    assert panels.channel_trend_grid(_trend().iloc[0:0], tz=SHANGHAI).empty


def test_channel_trend_draws_buckets_without_complaints_as_zero():
    trend = pd.DataFrame(
        {
            "bucket_start": [NOW, NOW + timedelta(minutes=15)],
            "channel": ["hotline"] * 2,
            "count": [3, 4],
        }
    )
    assert list(panels.channel_trend_grid(trend, tz=SHANGHAI)["hotline"]) == [3, 0, 0, 4]
    # The wall's window: from 10 minutes before the first bucket up to the current bucket.
    since, until = NOW - timedelta(minutes=8), NOW + timedelta(minutes=21)
    grid = panels.channel_trend_grid(trend, since=since, until=until, tz=SHANGHAI)
    assert list(grid["hotline"]) == [0, 0, 3, 0, 0, 4, 0]
    assert grid.index[0].minute == 50  # 03:50 UTC, the bucket holding `since`


def test_bar_figure_puts_the_largest_on_top_and_escapes_labels():
    fig = charts.bar_figure(["<b>a</b>", "b"], [5, 2], "top")
    assert list(fig.data[0].x) == [2, 5]
    assert list(fig.data[0].y) == ["b", "&lt;b&gt;a&lt;/b&gt;"]


def _alerts() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"severity": 1, "title": "<img src=x onerror=alert(1)>", "state": "firing",
             "started_at": NOW - timedelta(minutes=90), "fired_at": NOW - timedelta(minutes=80),
             "acknowledged_by": "", "count": 120, "rule_kind": "surge", "expected": 2.0,
             "key": {"product_code": "<b>P</b>", "channel": "hotline"}},
            {"severity": 4, "title": "车险", "state": "acknowledged",
             "started_at": NOW - timedelta(minutes=5), "fired_at": None,
             "acknowledged_by": "zhang-wei", "count": 12, "rule_kind": "threshold",
             "expected": 10.0, "key": {"product_line": "车险"}},
        ]
    )  # fmt: skip


def test_alerts_table_colours_rows_by_severity_and_shows_age():
    table = panels.alerts_table(_alerts(), NOW, "zh")
    severity, title, state, age, handler, count = table.columns
    assert list(severity) == ["Ⅰ", "Ⅳ"]
    assert title[0].startswith("&lt;img")
    assert list(state) == ["告警中", "已确认"]
    assert list(age) == ["1小时30分", "5分钟"]  # from the situation's start, not the firing
    assert list(handler) == ["—", "zhang-wei"]
    assert list(count) == ["120", "12"]
    # the severity cell keeps its colour; the acknowledged row's other cells step back
    assert list(table.fills[0]) == ["#c62828", "#3451c7"]
    assert list(table.fills[1]) == ["#c62828", ACKNOWLEDGED_FILL]
    for fills, inks in zip(table.fills, table.inks, strict=True):
        for fill, ink in zip(fills, inks, strict=True):
            assert contrast_ratio(fill, ink) >= 4.5, (fill, ink)


def test_every_severity_reads_at_wcag_contrast_and_acknowledged_looks_different():
    for level in (1, 2, 3, 4):
        fill, ink = severity_style(level)
        assert contrast_ratio(fill, ink) >= 4.5
        assert severity_style(level, acknowledged=True) != (fill, ink)
    assert contrast_ratio("#ffc53d", "#ffffff") < 2  # the old white on amber: why this exists


def test_an_empty_panel_says_so_without_empty_axes():
    fig = charts.bar_figure([], [], "热点事件", empty_text="无数据")
    assert [a.text for a in fig.layout.annotations] == ["无数据"]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert charts.bar_figure(["车险A"], [3]).layout.annotations == ()


def test_bar_values_read_horizontally():
    fig = charts.bar_figure(["车险A", "寿险B"], [12, 3], "热门产品")
    assert fig.data[0].textangle == 0
    english = panels.alerts_table(_alerts(), NOW, "en").columns[1]
    assert list(english) == [
        "Product &lt;b&gt;P&lt;/b&gt; · Channel Hotline: 120 complaints, expected 2.0",
        "Line Motor: 12 complaints (threshold 10)",
    ]


def test_evidence_draws_count_and_expectation_in_the_same_unit():
    # A 24-hour rule: 124 complaints against an expectation of 26, in 5-minute buckets that
    # never exceed 17. Drawn per 24 hours, the count clearly crosses the expected level.
    buckets = [NOW + timedelta(minutes=5 * i) for i in range(0, 288, 3)]  # every 15 min
    counts = [0] * (len(buckets) - 8) + [17, 16, 15, 17, 16, 15, 14, 14]
    trend = pd.DataFrame({"bucket_start": buckets, "count": counts})
    window = charts.window_counts(trend, 24 * 60)
    assert window.iloc[-1] == sum(counts) == 124
    assert len(window) == 288 - 2  # empty buckets on the grid count as 0
    labels = {"title": "每 24 小时投诉数与基线", "count": "数量", "expected": "基线"}
    fig = charts.evidence_figure(trend, 24 * 60, 26.0, NOW, labels, tz=SHANGHAI)
    line, expected = fig.data
    assert max(line.y) == 124 and list(expected.y) == [26.0, 26.0]
    assert len(fig.layout.shapes) == 1  # the start
    assert charts.window_counts(trend.iloc[:0], 60).empty


def test_comparison_chart_and_throughput_figure():
    frame = pd.DataFrame({"value": ["理赔", "<b>销售</b>"], "this": [5, 2], "prev": [3, 1]})
    spec = panels.comparison_chart(frame, {"this": "本周", "prev": "上周", "last_year": "去年"})
    assert spec.to_dict()["encoding"]["color"]["scale"]["domain"] == ["本周", "上周"]
    assert "<b>销售</b>" in str(spec.to_dict()["datasets"])  # Vega writes text, never markup
    throughput = pd.DataFrame(
        {"bucket_start": [NOW, NOW + timedelta(minutes=5), NOW], "source": ["a", "a", "b"],
         "count": [1, 2, 5]}
    )  # fmt: skip
    fig = charts.throughput_figure(throughput, tz=SHANGHAI)
    assert {trace.name: sum(trace.y) for trace in fig.data} == {"a": 3, "b": 5}


def test_open_alert_list_shows_start_count_and_state_with_acknowledged_muted():
    fig = charts.open_alerts_figure(_alerts(), NOW, "zh", tz=SHANGHAI)
    cells = fig.data[0].cells
    severity, title, count, started, state, handler = cells.values
    assert list(severity) == ["Ⅰ", "Ⅳ"]
    assert title[0].startswith("&lt;img") and "<img" not in title[0]
    assert list(count) == ["120", "12"]
    assert list(started) == ["11-23 10:30", "11-23 11:55"]  # the situation's start, in Shanghai
    assert list(state) == ["● 告警中", "✓ 已确认"]  # told apart without colour too
    assert list(handler) == ["—", "zhang-wei"]
    assert list(cells.fill.color[0]) == ["#c62828", "#3451c7"]  # severity keeps its colour
    assert list(cells.fill.color[1]) == ["#c62828", ACKNOWLEDGED_FILL]
    for fills, inks in zip(cells.fill.color, cells.font.color, strict=True):
        for fill, ink in zip(fills, inks, strict=True):
            assert contrast_ratio(fill, ink) >= 4.5, (fill, ink)
    assert cells.font.size >= 28  # larger than the wall's table (22)
    english = charts.open_alerts_figure(_alerts(), NOW, "en", tz=SHANGHAI).data[0]
    assert list(english.header.values) == ["Severity", "Alert", "Count", "Started", "State",
                                           "Handled by"]  # fmt: skip


def test_open_alert_list_keeps_to_max_rows_and_says_when_empty():
    many = pd.concat([_alerts()] * 8, ignore_index=True)
    assert (
        len(charts.open_alerts_figure(many, NOW, tz=SHANGHAI, max_rows=10).data[0].cells.values[0])
        == 10
    )
    empty = charts.open_alerts_figure(_alerts().iloc[0:0], NOW, "zh", tz=SHANGHAI)
    assert [a.text for a in empty.layout.annotations] == ["当前无活动告警"]
    assert empty.data == ()


def test_region_rows_rank_today_and_compare_with_last_week():
    today = pd.DataFrame(
        {"value": ["浙江", "<b>江苏</b>", "上海", "北京"], "count": [10, 30, 10, 0]}
    )
    last_week = pd.DataFrame({"value": ["浙江", "<b>江苏</b>", "广东"], "count": [20, 20, 9]})
    rows = charts.region_rank_rows(today, last_week)
    assert list(rows["rank"]) == [1, 2, 3]
    assert list(rows["value"]) == ["<b>江苏</b>", "上海", "浙江"]  # ties by name; 北京 had none
    assert list(rows["count"]) == [30, 10, 10]
    assert list(rows["previous"]) == [20, 0, 20]
    assert rows["change"].tolist()[0] == 50.0 and rows["change"].tolist()[2] == -50.0
    assert rows["change"].isna().tolist() == [False, True, False]  # no base: no percentage
    empty = charts.region_rank_rows(today.iloc[0:0], last_week)
    assert empty.empty and list(empty.columns) == ["rank", "value", "count", "previous", "change"]


def test_region_figure_ranks_largest_on_top_with_escaped_names_and_changes():
    today = pd.DataFrame({"value": ["浙江", "<b>江苏</b>", "上海"], "count": [10, 30, 7]})
    last_week = pd.DataFrame({"value": ["浙江", "<b>江苏</b>"], "count": [20, 20]})
    fig = charts.region_rank_figure(charts.region_rank_rows(today, last_week), "zh")
    bar = fig.data[0]
    assert list(bar.y) == ["3. 上海", "2. 浙江", "1. &lt;b&gt;江苏&lt;/b&gt;"]
    assert list(bar.x) == [7, 10, 30]
    assert list(bar.text) == ["7（新增）", "10（-50%）", "30（+50%）"]
    assert bar.textangle == 0 and bar.textfont.size >= 22
    english = charts.region_rank_figure(charts.region_rank_rows(today, last_week), "en")
    assert list(english.data[0].text) == ["7 (new)", "10 (-50%)", "30 (+50%)"]
    nothing = charts.region_rank_figure(charts.region_rank_rows(today.iloc[0:0], last_week), "en")
    assert [a.text for a in nothing.layout.annotations] == ["No data"]


def test_region_columns_share_one_scale():
    rows = charts.region_rank_rows(
        pd.DataFrame({"value": ["a", "b"], "count": [40, 10]}),
        pd.DataFrame(columns=["value", "count"]),
    )
    alone = charts.region_rank_figure(rows.iloc[1:]).layout.xaxis.range
    shared = charts.region_rank_figure(rows.iloc[1:], scale_max=40).layout.xaxis.range
    assert alone[1] == 10 * 1.45 and shared[1] == 40 * 1.45  # 10 is a quarter of 40, drawn so


def _bar_values(spec) -> list[str]:
    rows = next(iter(spec.to_dict()["datasets"].values()))
    return list(dict.fromkeys(r["value"] for r in rows))


def test_weekly_bars_name_categories_lines_and_channels_in_the_pages_language():
    series = {"this": "This week", "prev": "Previous week"}

    def chart(dimension, values, lang):
        frame = pd.DataFrame({"value": values, "this": [5, 2], "prev": [3, 1]})
        spec = panels.comparison_chart(frame, series, dimension=dimension, lang=lang)
        return _bar_values(spec), spec.to_dict()["encoding"]["x"]["sort"]

    assert chart("category", ["理赔", "销售"], "en") == (["Claims", "Sales"], ["Claims", "Sales"])
    assert chart("product_line", ["车险", "寿险"], "en")[0] == ["Motor", "Life"]
    assert chart("channel", ["hotline", "web"], "en")[0] == ["Hotline", "Web form"]
    assert chart("channel", ["hotline", "web"], "zh")[0] == ["热线", "网页表单"]
    assert chart("category", ["理赔", "销售"], "zh")[0] == ["理赔", "销售"]
    assert chart("region", ["广东", "浙江"], "en")[0] == ["广东", "浙江"]  # outside text


def test_time_axes_read_the_chinese_way_on_chinese_pages_and_plotlys_way_on_english_ones():
    trend = _trend()
    labels = {"title": "", "count": "count", "expected": "expected"}
    throughput = pd.DataFrame({"bucket_start": [NOW], "source": ["a"], "count": [1]})
    for lang in ("zh", "en"):
        figures = [
            charts.evidence_figure(trend, 60, 2.0, NOW, labels, tz=SHANGHAI, lang=lang),
            charts.throughput_figure(throughput, tz=SHANGHAI, lang=lang),
        ]
        for fig in figures:
            axis = fig.layout.xaxis
            if lang == "zh":
                formats = [stop.value for stop in axis.tickformatstops]
                assert formats == ["%m月%d日", "%H:%M<br>%m月%d日"]
                assert axis.hoverformat == "%Y-%m-%d %H:%M"
            else:
                assert axis.tickformatstops == () and axis.hoverformat is None


def _vega_px(value, window_height: int, container_width: int = 1000) -> float:
    """A Vega expression of ``panels`` (``clamp``, ``pow``, ``max``, ``a ? b : c`` over
    ``windowSize()`` and ``containerSize()``) evaluated for one screen; a number as it is."""
    if not isinstance(value, dict):
        return float(value)
    expr = (
        value["expr"]
        .replace("windowSize()[1]", str(window_height))
        .replace("containerSize()[0]", str(container_width))
    )
    if ternary := re.fullmatch(r"(.+) \? (.+) : (.+)", expr):
        test, then, otherwise = ternary.groups()
        expr = f"({then}) if ({test}) else ({otherwise})"
    names = {"clamp": lambda v, lo, hi: min(max(v, lo), hi), "pow": pow, "max": max}
    return float(eval(expr, {"__builtins__": {}}, names))  # our own constants, not input


def _css_px(css: str, window_height: int) -> float:
    """``clamp(0.9rem, 2vh, 3rem)`` in pixels on a screen ``window_height`` high."""
    found = re.fullmatch(r"clamp\(([\d.]+)rem, ([\d.]+)vh, ([\d.]+)rem\)", css)
    assert found is not None, css
    least, vh, most = found.groups()
    return min(max(float(vh) * window_height / 100, float(least) * 16), float(most) * 16)


def test_the_wall_trend_writes_its_legend_ticks_and_title_in_the_walls_type():
    """From across the room: the trend's legend (14 px before) and axis labels as large as the
    HTML panels' type beside it, which follows the screen's height (dashboard.ui.WALL_CSS)."""
    grid = panels.channel_trend_grid(_trend(), tz=SHANGHAI)
    spec = panels.channel_trend_chart(grid, "zh").to_dict()
    legend = spec["encoding"]["color"]["legend"]
    panel = re.search(r"\.radar-panel \{[^}]*font-size: (clamp\([^)]*\))", WALL_CSS)
    assert panel is not None
    for height in (768, 1080, 2160):
        text = _css_px(panel.group(1), height)
        assert _vega_px(legend["labelFontSize"], height) == text
        assert _vega_px(spec["config"]["axis"]["labelFontSize"], height) == text
        assert _vega_px(spec["config"]["title"]["fontSize"], height) >= text
        assert _vega_px(legend["symbolSize"], height) >= text**2  # a swatch 1 em long
        assert _vega_px(legend["labelLimit"], height) >= 6 * text  # "社交媒体" whole at 4K
    assert _vega_px(legend["labelFontSize"], 1080) >= 20  # tests/e2e/test_wall_tv_e2e.py


def test_the_walls_plotly_figures_write_hover_text_in_their_own_type():
    rows = charts.region_rank_rows(
        pd.DataFrame({"value": ["浙江"], "count": [3]}), pd.DataFrame(columns=["value", "count"])
    )
    fig = charts.region_rank_figure(rows, "zh")
    assert fig.layout.hoverlabel.font.size == fig.layout.font.size == 22  # not Plotly's 13


def test_plotly_legends_sit_below_the_axis_labels_and_no_toolbar_covers_a_title():
    """On a 390-pixel phone a legend at a share of the plot's height ran into two-line date
    labels, and Plotly's toolbar covered chart titles: the legend is a row at the figure's foot,
    with room made for it, and st.plotly_chart is given a config without the toolbar."""
    labels = {"title": "t", "count": "count", "expected": "expected"}
    throughput = pd.DataFrame({"bucket_start": [NOW], "source": ["a"], "count": [1]})
    for fig in (
        charts.evidence_figure(_trend(), 60, 2.0, NOW, labels, tz=SHANGHAI),
        charts.throughput_figure(throughput, tz=SHANGHAI),
    ):
        legend = fig.layout.legend
        assert legend.orientation == "h"
        assert (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom")
    assert charts.PLOTLY_CONFIG["displayModeBar"] is False


def test_a_weekly_legend_stacks_its_entries_in_a_phones_chart():
    frame = pd.DataFrame({"value": ["理赔"], "this": [5], "prev": [3], "last_year": [1]})
    series = {"this": "This week", "prev": "Previous week", "last_year": "Same week last year"}
    legend = panels.comparison_chart(frame, series).to_dict()["config"]["legend"]
    assert legend["orient"] == "bottom"
    assert _vega_px(legend["columns"], 1080, container_width=358) == 1  # one entry a row
    assert _vega_px(legend["columns"], 1080, container_width=600) == 0  # one row
