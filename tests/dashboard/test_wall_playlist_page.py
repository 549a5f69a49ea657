"""The wall's playlist views through Streamlit's AppTest against a real SQLite file: each view
renders the database's numbers, and a bad ``playlist`` value leaves the wall as it was, with a
note."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard import test_pages
from tests.dashboard.seed import complaint, ingest
from tests.dashboard.test_pages import page_script

# The console's fixtures: the dashboard pointed at a real SQLite file, seeded or not.
app_env = test_pages.app_env
seeded = test_pages.seeded

VIEW_SCRIPT = """
from dashboard.pages import wall
from dashboard.pages.common import holiday_calendar, now_utc
wall.{view}(now_utc(), holiday_calendar().tz, "{lang}")
"""


def _view(name: str, lang: str = "zh") -> AppTest:
    return AppTest.from_string(VIEW_SCRIPT.format(view=name, lang=lang), default_timeout=60).run()


@pytest.mark.usefixtures("seeded")
def test_a_bad_playlist_value_keeps_the_wall_and_says_so():
    for value in ("abc", "5", "86400", "<b>x</b>"):
        at = AppTest.from_string(page_script("wall"), default_timeout=60)
        at.query_params["playlist"] = value
        at.run()
        assert not at.exception, value
        footer = at.caption[-1].value
        assert "更新于" in footer and "轮播参数无效（需 10–3600 秒）" in footer, footer
        assert "今日投诉" in [m.label for m in at.metric]  # the wall itself
        assert "▶" not in footer


@pytest.mark.usefixtures("seeded")
def test_without_the_parameter_the_footer_is_as_before():
    at = AppTest.from_string(page_script("wall"), default_timeout=60).run()
    footer = at.caption[-1].value
    assert footer.startswith("更新于") and "轮播" not in footer and "▶" not in footer


@pytest.mark.usefixtures("seeded")
def test_with_a_playlist_the_footer_says_where_the_rotation_is():
    at = AppTest.from_string(page_script("wall"), default_timeout=60)
    at.query_params["playlist"] = "3600"
    at.run()
    assert not at.exception
    footer = at.caption[-1].value
    assert "▶ " in footer and "/3 " in footer and "下一页" in footer, footer


@pytest.mark.usefixtures("seeded")
def test_the_alert_list_view_counts_open_alerts_by_state_and_level():
    at = _view("_alerts_view")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["活动告警"] == "2"  # as the wall counts them (test_pages)
    assert metrics["告警中"] == "2" and metrics["已确认"] == "0"
    assert sum(int(metrics[f"{level}级"]) for level in "ⅠⅡⅢⅣ") == 2
    english = _view("_alerts_view", "en")
    labels = {m.label for m in english.metric}
    assert {"Active alerts", "Firing", "Acknowledged", "Level Ⅰ", "Level Ⅳ"} <= labels


def test_the_regions_view_counts_today_by_region(request):
    engine = request.getfixturevalue("app_env")
    now = datetime.now(UTC)
    rows = [
        complaint(i, now - timedelta(minutes=1 + i), "hotline", region=region)
        for i, region in enumerate(["浙江", "浙江", "浙江", "江苏", "<b>上海</b>"])
    ]
    ingest(engine, rows)
    at = _view("_regions_view")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["各地区今日投诉（括号内为较上周同期）"] == "5"
    assert metrics["地区排行"] == "3"
    (bars,) = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    # inert text, largest on top, ties by name ("<" sorts before 江)
    assert bars["y"] == ["3. 江苏", "2. &lt;b&gt;上海&lt;/b&gt;", "1. 浙江"]
    assert bars["text"] == [
        "1（新增）",
        "1（新增）",
        "3（新增）",
    ]  # nothing last week: no percentage


@pytest.mark.usefixtures("seeded")
def test_the_sidebar_toggle_writes_the_playlist_into_the_address_and_back():
    at = AppTest.from_string(page_script("wall"), default_timeout=60).run()
    toggle = at.sidebar.toggle(key="wall_playlist")
    assert toggle.label == "轮播（每 60 秒）" and toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    assert at.query_params["playlist"] == "60"
    assert "▶ " in at.caption[-1].value  # rotating now
    at.sidebar.toggle(key="wall_playlist").set_value(False).run()
    assert "playlist" not in at.query_params
    assert "▶" not in at.caption[-1].value
    kiosk = AppTest.from_string(page_script("wall"), default_timeout=60)
    kiosk.query_params["kiosk"] = "1"
    kiosk.query_params["playlist"] = "30"
    kiosk.run()
    assert not kiosk.sidebar.toggle and "▶ " in kiosk.caption[-1].value
