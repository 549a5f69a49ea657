"""The page a notification opens, on a 390×844 phone and a 1366×768 laptop, in Chinese and
English: the alert it names, with 确认/解除 on the first screen, no traceback."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertEvent
from tests.e2e.conftest import screenshot

VIEWS = [
    ("zh", {"width": 390, "height": 844}, "确认", "解除"),
    ("en", {"width": 390, "height": 844}, "Acknowledge", "Resolve"),
    ("zh", {"width": 1366, "height": 768}, "确认", "解除"),
]


@pytest.mark.parametrize(("lang", "viewport", "ack", "resolve"), VIEWS)
def test_the_linked_alert_can_be_acted_on_without_scrolling(
    dashboard_app, browser, lang, viewport, ack, resolve
):
    with Session(dashboard_app.engine) as session:
        target = session.scalars(
            select(Alert).where(Alert.state == "firing").order_by(Alert.id.desc())
        ).first()
    assert target is not None, "the seeded surge should have raised an alert"
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/alerts?alert={target.id}&lang={lang}")
        heading = page.get_by_role("heading", name=f"#{target.id}")
        heading.first.wait_for(timeout=30_000)
        operator = page.get_by_role("textbox", name="操作人" if lang == "zh" else "Operator")
        operator.last.fill("李娜")  # the one beside the alert; the sidebar's on a wide screen
        operator.last.press("Enter")
        for name in (ack, resolve):
            button = page.get_by_role("button", name=name, exact=True)
            button.wait_for(timeout=30_000)
            box = button.bounding_box()
            assert box is not None and box["y"] + box["height"] <= viewport["height"], name
        body = page.inner_text("body")
        assert "Traceback" not in body
        screenshot(page, f"incident-{lang}-{viewport['width']}")
    finally:
        context.close()


CHART_BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((plot) => {
  const box = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const ticks = Array.from(plot.querySelectorAll('.xtick text')).map(box).filter((b) => b[2] > b[0]);
  const legend = plot.querySelector('.legend');
  return {plot: box(plot), legend: legend && box(legend), ticks,
          toolbar: plot.querySelectorAll('.modebar').length};
})"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_incident_charts_legend_and_titles_are_clear_on_a_phone(dashboard_app, browser, lang):
    """At 390 pixels: no Plotly toolbar over a chart's title, and the evidence chart's legend
    inside the chart and clear of the time axis's two-line labels."""
    with Session(dashboard_app.engine) as session:
        target = session.scalars(
            select(Alert).where(Alert.state == "firing").order_by(Alert.id.desc())
        ).first()
    assert target is not None, "the seeded surge should have raised an alert"
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/alerts?alert={target.id}&lang={lang}")
        plots = page.locator(".js-plotly-plot")
        plots.nth(2).wait_for(timeout=30_000)  # the evidence, its regions and its channels
        for plot in plots.all():
            plot.scroll_into_view_if_needed()
            plot.hover()  # Plotly shows its toolbar on hover, a tap on a phone
        charts = page.evaluate(CHART_BOXES)
        assert [c["toolbar"] for c in charts] == [0, 0, 0]
        evidence = charts[0]
        legend = evidence["legend"]
        left, top, right, bottom = evidence["plot"]
        assert legend is not None and evidence["ticks"]
        assert left <= legend[0] and legend[2] <= right and top <= legend[1] and legend[3] <= bottom
        assert not any(_overlap(legend, tick) for tick in evidence["ticks"]), evidence
    finally:
        context.close()


def test_escalate_now_from_the_incident_page(dashboard_app, browser):
    with Session(dashboard_app.engine) as session:
        target = session.scalars(
            select(Alert).where(Alert.state == "firing").order_by(Alert.id)
        ).first()
    assert target is not None, "the seeded surge should have raised an alert"
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/alerts?alert={target.id}&lang=zh")
        page.get_by_role("heading", name=f"#{target.id}").first.wait_for(timeout=30_000)
        operator = page.get_by_role("textbox", name="操作人")
        operator.last.fill("李娜")
        operator.last.press("Enter")
        page.get_by_role("button", name="立即升级", exact=True).click(timeout=30_000)
        query = select(AlertEvent.actor).where(
            AlertEvent.alert_id == target.id, AlertEvent.kind == "escalate_now"
        )
        actors: list[str] = []
        for _ in range(60):  # the click's rerun writes the event
            with Session(dashboard_app.engine) as session:
                actors = list(session.scalars(query))
            if actors:
                break
            page.wait_for_timeout(500)
        assert actors == ["李娜"]
        assert "Traceback" not in page.inner_text("body")
    finally:
        context.close()


def test_reassign_from_the_incident_page_on_a_phone(dashboard_app, browser):
    """The owner is picked from the roster on a 390×844 phone; the database says who and by whom
    (the grid's cells are not in the DOM)."""
    with Session(dashboard_app.engine) as session:
        target = session.scalars(
            select(Alert).where(Alert.state == "firing").order_by(Alert.id)
        ).first()
    assert target is not None, "the seeded surge should have raised an alert"
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{dashboard_app.url}/alerts?alert={target.id}&lang=zh")
        page.get_by_role("heading", name=f"#{target.id}").first.wait_for(timeout=30_000)
        operator = page.get_by_role("textbox", name="操作人")
        operator.last.fill("王芳")
        operator.last.press("Enter")
        page.get_by_role("button", name="转交", exact=True).first.click(timeout=30_000)
        page.get_by_role("combobox", name="转交给").click(timeout=30_000)
        page.get_by_role("option", name="李娜（li-na）").click(timeout=30_000)
        page.get_by_role("button", name="转交", exact=True).last.click(timeout=30_000)
        query = select(AlertEvent.actor, AlertEvent.message).where(
            AlertEvent.alert_id == target.id, AlertEvent.kind == "reassigned"
        )
        events: list[tuple[str, str]] = []
        for _ in range(60):  # the click's rerun writes the event
            with Session(dashboard_app.engine) as session:
                events = [(actor, message) for actor, message in session.execute(query)]
            if events:
                break
            page.wait_for_timeout(500)
        assert events == [("王芳", "li-na")]
        with Session(dashboard_app.engine) as session:
            assert session.get_one(Alert, target.id).assignee == "li-na"
        page.get_by_text("负责人", exact=True).first.wait_for(timeout=30_000)
        page.get_by_text("李娜", exact=True).first.wait_for(timeout=30_000)  # the owner's name
        assert "Traceback" not in page.inner_text("body")
        screenshot(page, "incident-reassigned-zh-390")
    finally:
        context.close()
