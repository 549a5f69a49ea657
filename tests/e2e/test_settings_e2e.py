"""配置 in a real browser: the configuration reads as tables in the page's language, never as a
JSON dump, on a desktop and a phone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

CASES = [
    ("zh", {"width": 1366, "height": 768}, ["设置项", "检测间隔（秒）", "自适应激增", "启用"]),
    ("en", {"width": 390, "height": 844}, ["Setting", "Evaluation interval (s)", "Adaptive surge"]),
]


@pytest.mark.parametrize(("lang", "viewport", "words"), CASES)
def test_settings_read_as_tables_in_the_page_language(
    dashboard_app, browser, lang, viewport, words
):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/settings?lang={lang}")
        page.locator('[data-testid="stTable"] >> visible=true').first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)  # the run ends: every table of the first tab is drawn
        body = page.inner_text("body")
        for word in words:
            assert word in body, word
        assert page.locator('[data-testid="stJson"]').count() == 0
        assert "resolve_after_minutes" not in body and '{"' not in body
        assert "Traceback" not in body
        screenshot(page, f"settings-{lang}-{viewport['width']}")
    finally:
        context.close()
