"""The wall on a TV in kiosk mode: everything, down to 更新于, on one screen at 1920×1080,
1366×768 and 3840×2160 — a TV cannot scroll."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

SCREENS = [(1920, 1080), (1366, 768), (3840, 2160)]


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_the_wall_fits_the_screen_without_scrolling(dashboard_app, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/?kiosk=1")
        page.locator(".js-plotly-plot").nth(4).wait_for(timeout=30_000)  # every chart drawn
        updated = page.get_by_text("更新于")
        updated.wait_for(timeout=30_000)
        page.wait_for_timeout(1_000)
        scroll = page.evaluate("() => document.documentElement.scrollHeight")
        assert scroll <= height + 1, f"the page scrolls: {scroll} > {height}"
        box = updated.bounding_box()  # the last line of the wall
        assert box is not None and box["y"] + box["height"] <= height, (box, height)
        screenshot(page, f"wall-tv-{width}x{height}")
    finally:
        context.close()
