"""月度考核 in a real browser on the simulator's data: the cycle holding the newest complaint,
per-branch rows, and an Excel download in the page's language, on a desktop and a phone."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import ARTIFACTS, screenshot

CASES = [
    ("zh", {"width": 1366, "height": 768}, "月度考核", "下载 Excel", "机构汇总", "分支机构"),
    ("en", {"width": 390, "height": 844}, "Monthly accountability", "Download Excel", "Branches",
     "Branch"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "viewport", "heading", "download", "sheet", "column"), CASES)
def test_monthly_page_shows_branches_and_downloads(
    dashboard_app, browser, lang, viewport, heading, download, sheet, column
):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/monthly?lang={lang}")
        page.get_by_role("heading", name=heading).wait_for(timeout=30_000)
        button = page.get_by_role("button", name=download)
        button.wait_for(timeout=30_000)
        tables = page.locator('[data-testid="stDataFrame"]')
        tables.nth(1).wait_for(timeout=30_000)  # the summary and branch × channel
        assert tables.count() == 2
        page.get_by_text("计入规则" if lang == "zh" else "Counting:").wait_for(timeout=30_000)
        live = "（实时统计）" if lang == "zh" else "(counted live)"  # the open cycle: no snapshot
        page.get_by_text(live).wait_for(timeout=30_000)
        with page.expect_download(timeout=30_000) as info:
            button.click()
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / info.value.suggested_filename
        info.value.save_as(target)
        book = load_workbook(target)
        assert book.sheetnames[0] == sheet
        assert book[sheet]["A3"].value == column
        branches = [row[0] for row in book[sheet].iter_rows(min_row=4, values_only=True)]
        assert sum("分公司" in str(b) for b in branches) >= 5  # the simulator's branches
        body = page.inner_text("body")
        assert "Traceback" not in body and "Error" not in body.replace("Errors", "")
        screenshot(page, f"monthly-{lang}-{viewport['width']}")
    finally:
        context.close()
