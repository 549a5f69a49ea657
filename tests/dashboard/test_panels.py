"""The wall's HTML panels: outside text is inert, the largest bar comes first and is widest."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard import panels

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_bars_escape_outside_text_and_rank_largest_first():
    html = panels.bars_html(["<img src=x onerror=alert(1)>", "寿险B"], [12, 3], "热门<b>产品</b>")
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "热门&lt;b&gt;产品&lt;/b&gt;" in html
    widths = [float(w) for w in re.findall(r"width:([\d.]+)%", html)]
    assert widths == [80.0, 20.0]  # proportional to the counts, the largest first
    assert re.findall(r'radar-value">([^<]*)<', html) == ["12", "3"]


def test_empty_bars_say_so():
    html = panels.bars_html([], [], "热点事件", empty_text="无数据")
    assert "无数据" in html and "radar-row" not in html


def test_the_alert_table_writes_escaped_cells_in_their_row_colours():
    alerts = pd.DataFrame(
        [
            {"severity": 1, "title": "<script>x()</script>", "state": "firing",
             "started_at": NOW - timedelta(minutes=90), "acknowledged_by": "<i>li</i>",
             "count": 120, "rule_kind": "threshold", "expected": 2.0,
             "key": {"product_code": "<b>P</b>"}},
        ]
    )  # fmt: skip
    html = panels.table_html(panels.alerts_table(alerts, NOW, "zh"))
    assert "<script>" not in html and "<i>" not in html and "<b>" not in html
    assert "&lt;i&gt;li&lt;/i&gt;" in html and "&lt;script&gt;x()" in html
    assert html.count("<tr>") == 2 and html.count("<th>") == 6
    assert 'style="background:#c62828;color:' in html  # Ⅰ in its severity colour


def test_the_ranking_chart_puts_the_largest_on_top_with_its_value_beside_it():
    spec = panels.ranking_chart(["寿险B", "车险A"], [3, 12], "热门产品").to_dict()
    bars, text = spec["layer"]
    assert bars["encoding"]["y"]["sort"] == "-x"
    assert text["mark"]["type"] == "text" and text["encoding"]["text"]["field"] == "count"
    assert text["mark"]["color"] == "#e6e9ef"  # light on the dark theme, not Vega's black


def test_the_wall_table_names_how_many_alerts_it_leaves_out():
    alerts = pd.DataFrame(
        [{"severity": 2, "title": "t", "state": "firing", "started_at": NOW, "count": 9,
          "acknowledged_by": None, "rule_kind": "threshold", "expected": 2.0,
          "key": {"product_code": "P"}}]
    )  # fmt: skip
    table = panels.alerts_table(alerts, NOW, "zh")
    html = panels.table_html(table, "另有 <b>3</b> 条未显示")
    assert html.count("<tr>") == 3 and 'colspan="6"' in html
    assert "另有 &lt;b&gt;3&lt;/b&gt; 条未显示" in html  # inert text
    assert "radar-more" not in panels.table_html(table)
