"""English pages say what a Chinese alert title says, from the alert's own fields."""

from __future__ import annotations

from dashboard.alert_titles import alert_title, title_details, window_en
from dashboard.value_names import value_name
from domain.vocabulary import CATEGORIES, PRODUCT_LINES


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
