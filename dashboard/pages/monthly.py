"""月度考核: a branch's accountability cycle (default 21st–20th) per branch and channel, with
repeat, upgraded and multi-channel complaints, overdue decisions and weighted scores."""

from __future__ import annotations

import logging
from datetime import tzinfo

import pandas as pd
import streamlit as st

from config.rules import AccountabilityConfig
from dashboard import cache
from dashboard.i18n import Lang, channel_name, t
from dashboard.monthly import TOTAL, MonthlyReport, cycle_named, cycle_of, previous_cycle
from dashboard.monthly_report import (
    SUMMARY_HEADERS,
    branch_label,
    empty_cycles,
    pct_text,
    span,
    title,
    to_excel,
    to_pdf,
)
from dashboard.pages.common import calendar_config, holiday_calendar, loaded_config, now_utc
from dashboard.settings import dashboard_settings
from dashboard.timeutil import fmt_local
from dashboard.ui import lang, show_failure

log = logging.getLogger("radar.dashboard")
CYCLES_OFFERED = 24
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def accountability() -> AccountabilityConfig:
    config = loaded_config()
    return config.rules.accountability if config is not None else AccountabilityConfig()


def render() -> None:
    language = lang()
    st.title(t("page_monthly", language))
    try:
        _render(language)
    except Exception as exc:  # a page never shows a traceback
        show_failure("monthly page", exc)


def _render(language: Lang) -> None:
    config = accountability()
    now = now_utc(300)
    start_day = config.cycle_start_day
    calendar = holiday_calendar()
    today = calendar.local(now).date()  # the cycle closes on a local day, not a UTC one
    latest = cycle_of(cache.slow("latest_receipt_day", calendar.tz.key) or today, start_day)
    newest = cycle_of(today, start_day)
    names, cycle = [], newest
    for _ in range(CYCLES_OFFERED):
        names.append(cycle.name)
        cycle = previous_cycle(cycle, start_day)
    if latest.name not in names:
        names.insert(0, latest.name)
    picked = st.selectbox(
        t("m_cycle", language), names, index=names.index(latest.name), key="month_cycle"
    )  # keyed: the picked cycle stays when the language (the label) changes
    report = cache.monthly_report(
        cycle_named(picked, start_day),
        config,
        now,
        dashboard_settings().deadline_days,
        calendar_config(),
    )
    st.caption(title(report, language))
    st.caption(as_of_text(report, calendar.tz, language))
    if report.empty:
        st.info(t("m_empty", language))
        return
    _headline(report, language)
    _downloads(report, language)
    st.dataframe(summary_frame(report, language), hide_index=True, width="stretch")
    st.subheader(t("m_by_channel", language))
    st.dataframe(channel_frame(report, language), width="stretch")
    st.caption(t("m_rules", language))


def as_of_text(report: MonthlyReport, tz: tzinfo, language: Lang) -> str:
    """What the figures are as of: a closed cycle's counts come from its snapshot."""
    now = fmt_local(report.as_of, tz, "%Y-%m-%d %H:%M")
    if report.frozen_at is None:
        return t("m_as_of_live", language).format(now=now)
    frozen = fmt_local(report.frozen_at, tz, "%Y-%m-%d %H:%M")
    closed = report.as_of is not None and report.as_of >= span(report.cycle, tz)[1]
    return t("m_as_of_frozen" if closed else "m_as_of_open", language).format(
        frozen=frozen, now=now
    )


def _headline(report: MonthlyReport, language: Lang) -> None:
    total = report.summary[report.summary["branch"] == TOTAL].iloc[0]
    cols = st.columns(5)
    cols[0].metric(t("m_received", language), f"{int(total['received']):,}")
    cols[1].metric(t("m_counted", language), f"{int(total['counted']):,}")
    cols[2].metric(t("m_upgraded", language), int(total["upgraded"]))
    cols[3].metric(t("m_overdue", language), int(total["overdue"]))
    cols[4].metric(t("m_mom", language), pct_text(total["mom"], language), delta_color="off")


def _downloads(report: MonthlyReport, language: Lang) -> None:
    left, right = st.columns(2)
    stem = f"complaint-radar-month-{report.cycle.name}-{language}"
    left.download_button(
        t("m_download_xlsx", language),
        to_excel(report, language),  # small (a row per branch): ready before the click
        file_name=f"{stem}.xlsx",
        mime=XLSX,
        key="dl_month_xlsx",
    )
    right.download_button(
        t("m_download_pdf", language),
        lambda: to_pdf(report, language),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        key="dl_month_pdf",
    )


def summary_frame(report: MonthlyReport, language: Lang) -> pd.DataFrame:
    """The summary with localized headers and labels; changes as text (无数据, not 0 %), and
    无数据 for a compared cycle without any complaint, as in the workbook and the PDF."""
    frame = report.summary.copy()
    for column in empty_cycles(report):
        frame[column] = t("no_data", language)
    frame["branch"] = [branch_label(b, language) for b in frame["branch"]]
    frame["mom"] = [pct_text(v, language) for v in frame["mom"]]
    frame["yoy"] = [pct_text(v, language) for v in frame["yoy"]]
    frame.columns = [t(h, language) for h in SUMMARY_HEADERS]
    return frame


def channel_frame(report: MonthlyReport, language: Lang) -> pd.DataFrame:
    frame = report.by_channel.copy()
    frame.index = [branch_label(str(b), language) for b in frame.index]
    frame.index.name = t("m_branch", language)
    frame.columns = [channel_name(str(c), language) for c in frame.columns]
    return frame
