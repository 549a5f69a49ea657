"""English pages say what a Chinese alert title says, from the alert's own fields."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd

from dashboard import charts, panels
from dashboard.alert_titles import alert_title, key_zh, row_title, title_details, window_en
from dashboard.inert import md_text
from dashboard.value_names import value_name
from domain.vocabulary import CATEGORIES, PRODUCT_LINES

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_each_rule_kind_reads_in_english_and_chinese_pages_keep_the_stored_title():
    stored = "事件 航班延误：360 分钟投诉 27 件，涉及 1 个产品"
    assert alert_title(stored, "event", {"event_tag": "航班延误"}, 27, 0.04, "zh") == stored
    cases = [
        (
            "event",
            {"event_tag": "航班延误"},
            27,
            0.04,
            "Event 航班延误: 27 complaints, expected <0.1",
        ),
        ("copied_text", {"cluster": "c9"}, 31, 2.0, "Copied text: 31 similar complaints"),
        ("source_silent", {"source": "hotline-db"}, 0, 0.0, "Source hotline-db: no data"),
        ("threshold", {"region": "广东"}, 30, 30.0, "Region 广东: 30 complaints (threshold 30)"),
        (
            "surge",
            {"channel": "web", "region": ""},
            9,
            1.26,
            "Channel Web form · Region —: 9 complaints, expected 1.3",
        ),
    ]
    for kind, key, count, expected, english in cases:
        assert alert_title(stored, kind, key, count, expected, "en") == english
    assert alert_title(stored, "surge", None, 1, 0.0, "en") == stored  # no key: as stored


def test_english_titles_say_the_window_share_and_cusum_the_chinese_ones_carry():
    """What the rules write in Chinese (alerts.detect.rules.surge), said from the details."""
    key = {"product_code": "P1"}
    surge = {"stage": "surge", "window_minutes": 180, "p_value": 1e-9}
    assert (
        alert_title("产品 P1：3 小时投诉 21 件，预期 2.9 件", "surge", key, 21, 2.93, "en", surge)
        == "Product P1: 21 complaints in 3 hours, expected 2.9"
    )
    stored = "产品 P1 · 类别 理赔：30 分钟投诉 12 件，占产品 P1同期 40 件的 30%，通常约 10%"
    share = {"stage": "share", "window_minutes": 30, "share_of": ["product_code"],
             "parent_count": 40, "share": 0.1}  # fmt: skip
    assert (
        alert_title(stored, "surge", {**key, "category": "理赔"}, 12, 4.0, "en", share)
        == "Product P1 · Category Claims: 12 complaints in 30 minutes,"
        " 30% of product P1's 40 in the same window, usually about 10%"
    )
    del share["share_of"]  # stored before the details named the parent
    assert alert_title(stored, "surge", {**key, "category": "理赔"}, 12, 4.0, "en", share) == (
        "Product P1 · Category Claims: 12 complaints in 30 minutes,"
        " 30% of 40 in the same window, usually about 10%"
    )
    cusum = {"stage": "cusum", "window_minutes": 1440, "cusum": 6.2}
    assert (
        alert_title("…连日上升", "surge", key, 30, 12.0, "en", cusum)
        == "Product P1: 30 complaints in the last 24 hours, expected 12.0, rising for days"
    )
    event = {"window_minutes": 360, "products": 3}
    assert (
        alert_title(
            "事件 航班延误：6 小时…", "event", {"event_tag": "航班延误"}, 27, 0.04, "en", event
        )
        == "Event 航班延误: 27 complaints in 6 hours across 3 products, expected <0.1"
    )
    assert (
        alert_title("…", "threshold", {"region": "广东"}, 30, 30.0, "en", {"window_minutes": 60})
        == "Region 广东: 30 complaints in 1 hour (threshold 30)"
    )


def test_the_alert_lists_carry_the_details_their_titles_read():
    evidence = {"complaint_ids": list(range(200)), "window_minutes": 60, "stage": "surge"}
    assert title_details(evidence) == {"window_minutes": 60, "stage": "surge"}
    assert title_details(None) == {}
    assert [window_en(m) for m in (30, 60, 90, 1440)] == [
        "30 minutes",
        "1 hour",
        "90 minutes",
        "24 hours",
    ]


def test_every_category_and_product_line_of_the_vocabulary_reads_in_english():
    assert all(value_name("category", c, "en") != c for c in CATEGORIES)
    assert all(value_name("product_line", line, "en") != line for line in PRODUCT_LINES)
    assert value_name("category", "理赔", "zh") == "理赔"
    assert value_name("channel", "hotline", "en") == "Hotline"
    assert value_name("region", "广东", "en") == "广东"  # outside text, as it is


def test_titles_name_the_product_beside_its_code_as_notifications_do():
    key = {"product_code": "CAR-001"}
    stored = "产品 CAR-001：30 分钟投诉 12 件，预期 1.2 件"
    surge = {"stage": "surge", "window_minutes": 30}
    named = ("surge", key, 12, 1.2)
    assert alert_title(stored, *named, "zh", surge, "安心交强险") == (
        "产品 安心交强险（CAR-001）：30 分钟投诉 12 件，预期 1.2 件"
    )
    assert alert_title(stored, *named, "en", surge, "安心交强险") == (
        "Product 安心交强险 (CAR-001): 12 complaints in 30 minutes, expected 1.2"
    )
    assert (
        key_zh({**key, "channel": "web"}, "安心交强险")
        == "产品 安心交强险（CAR-001） · 渠道 网页表单"
    )
    # a share title says the parent too; PostgreSQL's JSONB gives the key back in its own order
    stored = (
        "产品 CAR-001 · 类别 理赔：30 分钟投诉 12 件，占产品 CAR-001同期 40 件的 30%，通常约 10%"
    )
    share = {"stage": "share", "window_minutes": 30, "share_of": ["product_code"],
             "parent_count": 40, "share": 0.1}  # fmt: skip
    sorted_key = {"category": "理赔", "product_code": "CAR-001"}
    assert alert_title(stored, "surge", sorted_key, 12, 4.0, "zh", share, "安心交强险") == (
        "产品 安心交强险（CAR-001） · 类别 理赔：30 分钟投诉 12 件，"
        "占产品 安心交强险（CAR-001）同期 40 件的 30%，通常约 10%"
    )
    assert alert_title(stored, "surge", sorted_key, 12, 4.0, "en", share, "安心交强险") == (
        "Category Claims · Product 安心交强险 (CAR-001): 12 complaints in 30 minutes,"
        " 30% of product 安心交强险 (CAR-001)'s 40 in the same window, usually about 10%"
    )


def test_without_a_name_a_title_says_the_code_and_other_titles_stay_as_stored():
    key = {"product_code": "CAR-001"}
    stored = "产品 CAR-001：30 分钟投诉 12 件，预期 1.2 件"
    for name in ("", "CAR-001"):  # unknown, or the source sends the code as the name
        assert alert_title(stored, "surge", key, 12, 1.2, "zh", None, name) == stored
        assert alert_title(stored, "surge", key, 12, 1.2, "en", None, name) == (
            "Product CAR-001: 12 complaints, expected 1.2"
        )
    for other in ("产品 CAR-0011：3 件", "旧格式 CAR-001 告警", "产品 CAR-001"):
        assert alert_title(other, "surge", key, 3, 1.0, "zh", None, "安心交强险") == other
    event = "事件 台风：6 小时投诉 27 件，涉及 3 个产品"
    assert alert_title(event, "event", {"event_tag": "台风"}, 27, 1.0, "zh", None, "x") == event
    row = SimpleNamespace(title=stored, rule_kind="surge", key=key, count=12, expected=1.2)
    assert row_title(row, "zh") == stored  # a list without the column
    assert row_title(SimpleNamespace(**vars(row), product_name=None), "zh") == stored


HOSTILE = "[点此确认](http://x/phish) <b>险</b> :red[**紧急**]"


def test_a_product_name_with_markup_stays_inert_wherever_a_title_is_rendered():
    stored = "产品 CAR-001：30 分钟投诉 12 件，预期 1.2 件"
    alerts = pd.DataFrame(
        [{"id": 1, "severity": 1, "title": stored, "state": "firing", "started_at": NOW,
          "acknowledged_by": None, "count": 12, "rule_kind": "surge", "expected": 1.2,
          "key": {"product_code": "CAR-001"}, "details": {}, "product_name": HOSTILE}]
    )  # fmt: skip
    for lang in ("zh", "en"):
        title = row_title(next(alerts.itertuples(index=False)), lang)
        assert HOSTILE in title and "CAR-001" in title
        # the console's heading: Markdown, escaped by md_text
        shown = md_text(title)
        assert "](" not in shown and "<b>" not in shown and ":red[" not in shown
        assert r"\[点此确认\]\(http\:" in shown
        # the wall's table (HTML) and the playlist's list (Plotly): escaped by plain
        html = panels.table_html(panels.alerts_table(alerts, NOW, lang))
        assert "<b>险" not in html and "&lt;b&gt;险&lt;/b&gt;" in html
        figure = charts.open_alerts_figure(alerts, NOW, lang, tz=UTC)
        cells = figure.data[0].cells.values[1]
        assert "<b>" not in cells[0] and "&lt;b&gt;险&lt;/b&gt;" in cells[0]
