"""趋势周报: a chosen week against the previous one and the same week last year, with downloads."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import cache, charts
from dashboard.i18n import channel_name, t
from dashboard.report import DIMENSIONS, PERIODS, summary_rows, to_excel, to_image
from dashboard.timeutil import SHANGHAI, change_pct, monday_of, previous_full_week
from dashboard.ui import lang, show_failure


def render() -> None:
    language = lang()
    st.title(t("page_weekly", language))
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    picked = st.date_input(t("week", language), previous_full_week(datetime.now(UTC)), key="week")
    week = monday_of(picked if picked else today)
    report = cache.weekly_report(week)
    labels = {
        p: t(k, language)
        for p, k in zip(PERIODS, ("this_week", "prev_week", "last_year"), strict=True)
    }
    st.caption(f"{week:%Y-%m-%d} — {report.week_end:%Y-%m-%d}")

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
        t("last_year", language), f"{totals['last_year']:,}" if totals["last_year"] else "—"
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

    excel = to_excel(report)
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        t("download_excel", language),
        excel,
        file_name=f"complaint-radar-week-{week:%Y-%m-%d}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_excel",
    )
    for column, fmt, mime in ((d2, "pdf", "application/pdf"), (d3, "png", "image/png")):
        if not column.toggle(t(f"download_{fmt}", language), key=f"make_{fmt}"):
            continue
        try:
            document = to_image(report, fmt)
        except Exception as exc:  # any chart failure: an error id, never a traceback
            with column:
                show_failure(f"weekly {fmt}", exc)
            continue
        column.download_button(
            fmt.upper(),
            document,
            file_name=f"complaint-radar-week-{week:%Y-%m-%d}.{fmt}",
            mime=mime,
            key=f"dl_{fmt}",
        )

    rows = summary_rows(report, language)
    st.table(
        {
            "": [r[0] for r in rows],
            **{labels[p]: [r[i + 1] for r in rows] for i, p in enumerate(PERIODS)},
        }
    )
    titles = {
        "category": t("by_category", language),
        "channel": t("by_channel", language),
        "product_line": t("by_product_line", language),
        "region": t("by_region", language),
    }
    for i, dimension in enumerate(DIMENSIONS):
        frame = report.by_dimension[dimension].head(12)
        if dimension == "channel":
            frame = frame.assign(value=[channel_name(v, language) for v in frame["value"]])
        if i % 2 == 0:
            row = st.columns(2)
        row[i % 2].plotly_chart(
            charts.comparison_figure(frame, labels, titles[dimension]), key=f"weekly_{dimension}"
        )
    top = report.top_products
    st.plotly_chart(
        charts.bar_figure(
            list(top["product_name"]),
            list(top["count"]),
            t("top_products_week", language),
        ),
        key="weekly_top",
    )
