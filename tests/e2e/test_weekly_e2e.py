"""趋势周报 in a real browser: it opens on a week with data, and its Excel speaks the page's
language, on a desktop and a phone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import ARTIFACTS, screenshot

CASES = [
    ("zh", {"width": 1920, "height": 1080}, "投诉总量", "下载 Excel", "汇总"),
    ("en", {"width": 390, "height": 844}, "Total complaints", "Download Excel", "Summary"),
]


@pytest.mark.parametrize(("lang", "viewport", "total", "download", "sheet"), CASES)
def test_weekly_opens_on_data_and_exports_in_its_language(
    dashboard_app, browser, lang, viewport, total, download, sheet
):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/weekly?lang={lang}")
        metric = page.locator('[data-testid="stMetric"]', has_text=total)
        metric.wait_for(timeout=30_000)
        value = metric.locator('[data-testid="stMetricValue"]').inner_text()
        assert int(value.replace(",", "")) > 0, "the default week holds the demo's complaints"
        button = page.get_by_role("button", name=download)
        with page.expect_download(timeout=30_000) as info:
            button.click()
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / info.value.suggested_filename
        info.value.save_as(target)
        book = load_workbook(target)
        assert book.sheetnames[0] == sheet
        assert isinstance(book[sheet]["B4"].value, int)
        assert "Traceback" not in page.inner_text("body")
        screenshot(page, f"weekly-{lang}-{viewport['width']}")
    finally:
        context.close()


def test_no_page_fetches_anything_from_outside(dashboard_app, browser):
    """A duty room may be offline: the favicon, fonts and scripts all come from the app."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    try:
        for path in ("/", "/alerts", "/weekly", "/monthly"):
            page.goto(f"{dashboard_app.url}{path}")
            page.locator('[data-testid="stMetric"], h1').first.wait_for(timeout=30_000)
            page.wait_for_timeout(1_500)  # late requests: icons, fonts, charts
        icon = page.locator("link[rel~='icon']").first.get_attribute("href") or ""
        assert not icon.startswith("http") or urlsplit(icon).hostname == "127.0.0.1", icon
        assert hosts <= {"127.0.0.1", ""}, hosts
    finally:
        context.close()
