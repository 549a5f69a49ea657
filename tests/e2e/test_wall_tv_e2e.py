"""The wall on a TV in kiosk mode: everything, down to 更新于, on one screen at 1920×1080,
1366×768 and 3840×2160 — a TV cannot scroll."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard.playlist import VIEWS
from storage.db import make_session_factory, session_scope
from storage.models import Alert
from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_wall

SCREENS = [(1920, 1080), (1366, 768), (3840, 2160)]
# Least rendered type, in pixels, per screen height: counts, their labels, and the text lines
# (banners and the 更新于 footer). A 4K TV shows the 1080p sizes doubled, or more.
LEAST_PX = {  # panel: the alert table's and the rankings' type, which Plotly's never scaled;
    # chart: the trend's axis labels and legend in the panels' type (were 16 and 14 px on any TV)
    768: {"count": 40, "label": 16, "line": 12, "panel": 14, "chart": 14},
    1080: {"count": 56, "label": 20, "line": 16, "panel": 20, "chart": 20},
    2160: {"count": 112, "label": 40, "line": 32, "panel": 40, "chart": 40},
}
FONT_SIZES = """() => {
  const px = (sel) => Array.from(document.querySelectorAll(sel)).map(
    (e) => parseFloat(getComputedStyle(e).fontSize));
  return {count: px('[data-testid="stMetricValue"]'), label: px('[data-testid="stMetricLabel"] p'),
          line: px('[data-testid="stAlert"] p, [data-testid="stCaptionContainer"]'),
          panel: px('.radar-panel td, .radar-label, .radar-value'),
          chart: px('.st-key-wall_trend .role-axis-label text, .st-key-wall_trend .role-legend-label text')};
}"""


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_the_wall_fits_the_screen_without_scrolling(dashboard_app, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1")
        wait_for_wall(page)  # every panel drawn
        updated = page.get_by_text("更新于")
        updated.wait_for(timeout=30_000)
        page.wait_for_timeout(1_000)
        scroll = page.evaluate("() => document.documentElement.scrollHeight")
        assert scroll <= height + 1, f"the page scrolls: {scroll} > {height}"
        # nor does any panel scroll inside: the alert table shows what fits and counts the rest
        inner = page.evaluate(
            "() => Array.from(document.querySelectorAll('.radar-panel'))"
            ".map((e) => e.scrollHeight - e.clientHeight)"
        )
        assert inner and max(inner) <= 1, inner
        box = updated.bounding_box()  # the last line of the wall
        assert box is not None and box["y"] + box["height"] <= height, (box, height)
        sizes = page.evaluate(FONT_SIZES)
        for kind, least in LEAST_PX[height].items():
            assert sizes[kind] and min(sizes[kind]) >= least, (kind, sizes[kind], least)
        screenshot(page, f"wall-tv-{width}x{height}")
    finally:
        context.close()


def test_the_trends_hover_text_reads_in_the_walls_type(dashboard_app, browser):
    """Vega's tooltip was 12 px beside panels of 20: the pointer is moved up the trend's left
    end, where every channel's line is at 0 (the seed's history is 3 of its 6 hours)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1")
        wait_for_wall(page)
        box = page.locator(".st-key-wall_trend svg.marks").first.bounding_box()
        assert box is not None
        tooltip = page.locator("#vg-tooltip-element.visible")
        for y in range(int(box["y"] + box["height"]), int(box["y"]), -2):
            page.mouse.move(box["x"] + box["width"] * 0.1, y)
            if tooltip.count():
                break
        assert tooltip.count(), "no tooltip on the trend's lines"
        size = tooltip.evaluate(
            "(e) => parseFloat(getComputedStyle(e.querySelector('td')).fontSize)"
        )
        assert size >= LEAST_PX[1080]["chart"], size
    finally:
        context.close()


PLAYLIST = 10  # seconds; the e2e app refreshes the wall every 2 s (tests/e2e/conftest.py)
VIEW_CONTENT = {  # what shows that a view has drawn, by its place in the rotation
    1: ".radar-panel >> nth=3",  # the wall: its HTML panels
    2: ".st-key-wall_full_alerts .js-plotly-plot",
    3: ".st-key-wall_full_regions .js-plotly-plot",
}


def _slot(page) -> tuple[int, str]:
    """The view the footer names; read again while a rerun still shows the old footer too."""
    for _ in range(20):
        texts = page.get_by_text(re.compile(r"▶ \d/3")).all_inner_texts()
        if len(texts) == 1:
            found = re.search(r"▶ (\d)/3 (\S+)", texts[0])
            assert found, texts
            return int(found.group(1)), found.group(2)
        page.wait_for_timeout(100)
    raise AssertionError(f"no single playlist footer: {texts}")


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_the_playlist_rotates_views_that_each_fit_the_tv(dashboard_app, browser, width, height):
    """``?playlist=10`` on a TV in kiosk mode: the view moves on within a period and a refresh,
    and the wall, the alert list and the regions view each fit without scrolling."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1&playlist={PLAYLIST}")
        page.get_by_text(re.compile(r"▶ \d/3")).wait_for(timeout=30_000)
        first, _ = _slot(page)
        started = time.monotonic()
        seen: dict[int, str] = {}
        changed_after: float | None = None
        # One spare rotation: a view that moves on while being measured is measured next time.
        while len(seen) < 3 and time.monotonic() - started < 4 * PLAYLIST + 15:
            index, name = _slot(page)
            if index != first and changed_after is None:
                changed_after = time.monotonic() - started
            if index not in seen:
                try:  # Plotly's first chart can take seconds on a loaded machine
                    page.locator(VIEW_CONTENT[index]).first.wait_for(timeout=PLAYLIST * 1000)
                except PlaywrightTimeoutError:
                    continue  # not drawn within its period: measured on the spare rotation
                page.wait_for_timeout(800)  # the run ends; the previous view's elements go
                if _slot(page)[0] != index:  # its period ended meanwhile
                    continue
                scroll = page.evaluate("() => document.scrollingElement.scrollHeight")
                inner = page.evaluate("() => window.innerHeight")
                assert scroll <= inner + 1, f"view {index} {name} scrolls: {scroll} > {inner}"
                footer = page.get_by_text("更新于").bounding_box()  # the last line
                assert footer is not None and footer["y"] + footer["height"] <= height, footer
                seen[index] = name
                if index > 1:  # the wall itself is wall-tv-*
                    screenshot(page, f"wall-playlist-{VIEWS[index - 1]}-{width}x{height}")
            page.wait_for_timeout(300)
        assert changed_after is not None and changed_after <= PLAYLIST + 2 + 2, changed_after
        assert seen == {1: "值班大屏", 2: "告警列表", 3: "地区排行"}, seen
    finally:
        context.close()


def test_a_bad_playlist_value_shows_the_wall_with_a_note(dashboard_app, browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1&playlist=abc")
        page.get_by_text("轮播参数无效").wait_for(timeout=30_000)
        wait_for_wall(page)  # the wall as before
        assert page.get_by_text("Traceback").count() == 0
        scroll = page.evaluate("() => document.scrollingElement.scrollHeight")
        assert scroll <= page.evaluate("() => window.innerHeight") + 1
    finally:
        context.close()


TITLES = """() => Array.from(document.querySelectorAll('.radar-alerts tr')).slice(1)
  .filter((r) => r.querySelector('.radar-title')).map((r) => {
    const title = r.querySelector('.radar-title'), cell = title.closest('td');
    const note = r.querySelector('.radar-related'), box = cell.getBoundingClientRect();
    const noteBox = note && note.getBoundingClientRect();
    return {text: r.innerText, width: box.width,
            cut: title.scrollHeight > title.clientHeight + 1 || title.scrollWidth > title.clientWidth + 1,
            noteCut: note ? noteBox.right > box.right + 1 || note.scrollWidth > note.clientWidth + 1 : null};
  })"""


@pytest.fixture(scope="module")
def long_titles(dashboard_app) -> None:
    """Two situations with long titles, each with a related alert: their lines carry a note."""
    now = datetime.now(UTC)
    with session_scope(make_session_factory(dashboard_app.engine)) as session:
        for n, (key, title) in enumerate(
            [
                ({"product_code": "LIA-024"}, "产品 LIA-024：3 小时投诉 51 件，预期 <0.1"),
                ({"product_code": "LIA-024", "category": "理赔"}, "产品 LIA-024 · 类别 理赔"),
                (
                    {"product_code": "CAR-001"},
                    "产品 安心交强险（CAR-001）：1 小时投诉 33 件，预期 2.1",
                ),
                ({"product_code": "CAR-001", "region": "浙江"}, "产品 安心交强险 · 地区 浙江"),
            ]
        ):
            session.add(
                Alert(
                    fingerprint=f"wall-long-{n}", rule="product-surge", rule_kind="surge",
                    key=key, title=title, severity=1 + n // 2, state="firing",
                    started_at=now - timedelta(hours=20), fired_at=now, last_seen_at=now,
                    count=51 - n, expected=0.05, evidence={},
                )
            )  # fmt: skip


@pytest.mark.parametrize(("width", "height"), SCREENS[:2])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_alert_titles_and_their_related_notes_are_not_cut(
    dashboard_app, long_titles, browser, width, height, lang
):
    """The title wraps to a second line rather than ending in an ellipsis, and the related
    note (（另 N 条相关）) sits beside it, inside its cell."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1" + ("&lang=en" if lang == "en" else ""))
        page.get_by_text("LIA-024").first.wait_for(timeout=30_000)
        wait_for_wall(page)
        page.wait_for_timeout(500)
        rows = page.evaluate(TITLES)
        assert len(rows) >= 3, rows
        assert not [r for r in rows if r["cut"]], rows
        notes = [r for r in rows if r["noteCut"] is not None]
        assert len(notes) >= 2 and not [r for r in notes if r["noteCut"]], rows
        assert page.evaluate("() => document.documentElement.scrollHeight") <= height + 1
        screenshot(page, f"wall-tv-long-titles-{lang}-{width}x{height}")
    finally:
        context.close()


def test_a_phone_shows_the_alert_titles(dashboard_app, long_titles, browser):
    """390 px: the title column keeps its room (it had none), age and owner give way."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1")
        page.locator(".radar-title").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        rows = page.evaluate(TITLES)
        assert rows and min(r["width"] for r in rows) >= 150, rows
        assert not [r for r in rows if r["cut"]], rows
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".radar-alerts").first.screenshot(
            path=str(ARTIFACTS / "wall-phone-alerts.png")
        )
    finally:
        context.close()


def test_many_alerts_fit_the_wall_and_the_rest_are_counted(dashboard_app, browser):
    """Twelve situations at once (a snowstorm): the table shows what fits on one line each and
    says how many more there are; nothing scrolls inside a panel. Last in this module: the
    alerts it adds stay."""
    now = datetime.now(UTC)
    with session_scope(make_session_factory(dashboard_app.engine)) as session:
        for n in range(12):
            session.add(
                Alert(
                    fingerprint=f"wall-many-{n}", rule="product-surge", rule_kind="surge",
                    key={"product_code": f"WALL-{n:03d}"}, title=f"产品 WALL-{n:03d} 激增",
                    severity=2 + n % 3, state="firing", started_at=now, fired_at=now,
                    last_seen_at=now, count=30 + n, expected=2.0, evidence={},
                )
            )  # fmt: skip
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1")
        page.get_by_text(re.compile(r"另有 \d+ 条未显示")).wait_for(timeout=30_000)
        wait_for_wall(page)
        inner = page.evaluate(
            "() => Array.from(document.querySelectorAll('.radar-panel'))"
            ".map((e) => e.scrollHeight - e.clientHeight)"
        )
        assert inner and max(inner) <= 1, inner
        scroll = page.evaluate("() => document.scrollingElement.scrollHeight")
        assert scroll <= 1081, scroll
        screenshot(page, "wall-tv-many-alerts")
    finally:
        context.close()
