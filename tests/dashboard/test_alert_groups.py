"""The wall shows each situation once: a product's alerts fold into its first one."""

from __future__ import annotations

import pandas as pd

from dashboard import panels
from dashboard.alert_groups import fold_related

NOW = pd.Timestamp("2026-11-23 04:00", tz="UTC")


def alerts(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "severity", "title", "key", "parent_alert_id"])
    return frame.assign(
        state="firing",
        started_at=NOW,
        fired_at=NOW,
        acknowledged_by="",
        count=5,
        expected=0.1,
        rule_kind="surge",
    )


def test_a_product_s_alerts_fold_into_the_first_and_linked_alerts_into_their_parent():
    frame = alerts(
        (1, 2, "product LIA-024", {"product_code": "LIA-024"}, None),
        (2, 2, "event flight delay", {"event_tag": "航班延误"}, None),
        (3, 3, "LIA-024 region", {"product_code": "LIA-024", "region": "甘肃"}, None),
        (4, 3, "TRV-001", {"product_code": "TRV-001"}, 2),  # inside the event wave
        (5, 3, "TRV-001 category", {"product_code": "TRV-001", "category": "理赔"}, None),
        (6, 4, "copied text", {"cluster": "c9"}, None),
        (7, 4, "LIA-024 category", {"product_code": "LIA-024", "category": "销售"}, None),
    )
    folded = fold_related(frame)
    # TRV-001's category surge joins TRV-001, which is inside the event wave: one situation.
    assert list(folded["id"]) == [1, 2, 6]
    assert list(folded["related"]) == [2, 2, 0]


def test_the_wall_table_says_how_many_related_alerts_a_line_carries():
    frame = alerts(
        (1, 2, "产品 LIA-024", {"product_code": "LIA-024"}, None),
        (3, 3, "产品 LIA-024 · 地区 甘肃", {"product_code": "LIA-024", "region": "甘肃"}, None),
    )
    folded = fold_related(frame)
    table = panels.alerts_table(folded, NOW.to_pydatetime(), "zh")
    assert table.columns[1] == ["产品 LIA-024"] and table.related == ["（另 1 条相关）"]
    # beside the title, never cut with it: a note of its own in the title's cell
    html = panels.table_html(table)
    assert '<span class="radar-title">产品 LIA-024</span>' in html
    assert '<span class="radar-related">（另 1 条相关）</span>' in html
    english = panels.alerts_table(folded, NOW.to_pydatetime(), "en")
    assert english.columns[1] == ["Product LIA-024: 5 complaints, expected 0.1"]
    assert english.related == ["(+1 related)"] and 'lang="en"' in panels.table_html(english)
    assert fold_related(frame.iloc[0:0]).empty
