"""趋势周报: a chosen week against the previous one and the same week last year, with downloads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

import streamlit as st

from config.rules import CalendarConfig
from dashboard import cache, panels
from dashboard.i18n import Lang, t
from dashboard.pages.common import calendar_config
from dashboard.report import (
    DIMENSION_KEYS,
    DIMENSIONS,
    PERIOD_KEYS,
    PERIODS,
    Cell,
    cell_text,
    has_data,
    summary_rows,
    to_excel,
    to_image,
)
from dashboard.timeutil import change_pct, monday_of, previous_full_week
from dashboard.ui import lang, show_failure


def default_week(now: datetime, calendar: CalendarConfig) -> date:
    """The last full week if it holds complaints, else the week of the newest complaint: a
    fresh demo opens on its data, not on an empty week."""
    week = previous_full_week(now, cache.holiday_calendar(calendar).tz)
    if cache.weekly_report(week, calendar).totals["this"] > 0:
        return week
    newest = cache.slow("latest_receipt_day", cache.holiday_calendar(calendar).tz.key)
    return monday_of(newest) if newest is not None else week


def render() -> None:
    language = lang()
    st.title(t("page_weekly", language))
    try:
        _render(language)
    except Exception as exc:  # a page never shows a traceback
        show_failure("weekly page", exc)


def _render(language: Lang) -> None:
    now, calendar = datetime.now(UTC), calendar_config()
    picked = st.date_input(
        t("week", language), default_week(now, calendar), key="week", format="YYYY-MM-DD"
    )
    week = monday_of(picked if picked else cache.holiday_calendar(calendar).local(now).date())
    report = cache.weekly_report(week, calendar)
    labels = {p: t(PERIOD_KEYS[p], language) for p in PERIODS}
    st.caption(f"{week:%Y-%m-%d} — {report.week_end:%Y-%m-%d}")
    if not has_data(report, "this"):
        newest = cache.slow("latest_receipt_day", cache.holiday_calendar(calendar).tz.key)
        st.info(t("week_empty", language).format(day=newest or "—"))
        return

    totals = report.totals
    cols = st.columns(5)
    pct = change_pct(totals["this"], totals["prev"])
    cols[0].metric(
        t("total", language),
        f"{totals['this']:,}",
        None if pct is None else f"{pct:+.1f}% {t('prev_week', language)}",
        delta_color="inverse",
    )
    cols[1].metric(
        t("last_year", language),
        f"{totals['last_year']:,}" if has_data(report, "last_year") else t("no_data", language),
    )
    cols[2].metric(t("repeat", language), report.repeats["this"].repeat)
    cols[3].metric(t("multichannel", language), report.repeats["this"].multichannel)
    median = report.alerts["this"].median_ack_minutes
    cols[4].metric(
        t("alerts_raised", language),
        report.alerts["this"].raised,
        None if median is None else f"{t('ack_time', language)} {median:.0f}",
        delta_color="off",
    )
    for note in report.notes:
        st.caption(t(note, language))

    d1, d2, d3 = st.columns(3)
    stem = f"complaint-radar-week-{week:%Y-%m-%d}-{language}"
    d1.download_button(
        t("download_excel", language),
        lambda: to_excel(report, language),  # built when clicked
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_excel",
    )
    for column, fmt, mime in ((d2, "pdf", "application/pdf"), (d3, "png", "image/png")):
        if not column.toggle(t(f"download_{fmt}", language), key=f"make_{fmt}"):
            continue
        try:
            document = to_image(report, fmt, language)
        except Exception as exc:  # any chart failure: an error id, never a traceback
            with column:
                show_failure(f"weekly {fmt}", exc)
            continue
        column.download_button(
            fmt.upper(),
            document,
            file_name=f"{stem}.{fmt}",
            mime=mime,
            key=f"dl_{fmt}",
        )

    rows = summary_rows(report, language)
    st.table(
        {
            "": [r[0] for r in rows],
            **{
                labels[p]: [cell_text(cast(Cell, r[i + 1]), language) for r in rows]
                for i, p in enumerate(PERIODS)
            },
        }
    )
    titles = {d: t(key, language) for d, key in DIMENSION_KEYS.items()}
    for i, dimension in enumerate(DIMENSIONS):
        frame = report.by_dimension[dimension].head(12)
        if i % 2 == 0:
            row = st.columns(2)
        chart = panels.comparison_chart(
            frame, labels, titles[dimension], dimension=dimension, lang=language
        )
        row[i % 2].altair_chart(chart, key=f"weekly_{dimension}")
    top = report.top_products
    st.altair_chart(
        panels.ranking_chart(
            list(top["product_name"]), list(top["count"]), t("top_products_week", language)
        ),
        key="weekly_top",
    )
