"""趋势周报 in a real browser: it opens on a week with data, and its Excel speaks the page's
language, on a desktop and a phone."""

from __future__ import annotations

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
