"""English pages say what a Chinese alert title says, from the alert's own fields."""

from __future__ import annotations

from dashboard.alert_titles import alert_title


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
