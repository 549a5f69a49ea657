"""数据源: every source's health, lag, throughput, last error, quarantined records with reasons,
and the notification channels' health."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

import pandas as pd
import streamlit as st

from dashboard import cache, charts
from dashboard.health import worker_alive
from dashboard.i18n import Lang, t
from dashboard.inert import md_text
from dashboard.pages.common import (
    channel_rows,
    holiday_calendar,
    loaded_config,
    now_utc,
    source_rows,
)
from dashboard.timeutil import fmt_local
from dashboard.ui import lang


def localized(frame: pd.DataFrame, language: Lang) -> pd.DataFrame:
    """Column headers in the page's language (``col_<name>`` in the string table)."""
    return frame.rename(columns={c: t(f"col_{c}", language) for c in frame.columns})


def render() -> None:
    language = lang()
    now, tz = now_utc(5), holiday_calendar().tz
    st.title(t("page_sources", language))
    rows = source_rows(cache.live("source_states"), loaded_config(), now)
    if rows.empty:
        st.info(t("no_data", language))
    else:
        bad = rows[rows["status"] != "ok"]
        for row in cast("Iterable[Any]", bad.itertuples()):
            st.error(
                f"{md_text(row.name)}：{t('source_' + row.status, language)} "
                f"{md_text(row.last_error)}"
            )
        for row in rows[(rows["status"] == "ok") & (rows["note"] != "")].itertuples():
            st.info(f"{md_text(row.name)}：{md_text(row.note)}")  # a note can carry an HTTP header
        table = rows.assign(
            status=[t(f"source_{s}", language) for s in rows["status"]],
            last_success_at=[fmt_local(v, tz, "%m-%d %H:%M:%S") for v in rows["last_success_at"]],
        )
        st.dataframe(localized(table, language), hide_index=True, key="source_table")
    _channels(now, language)
    st.plotly_chart(
        charts.throughput_figure(
            cache.live("source_throughput", now - timedelta(hours=24), now + timedelta(minutes=5)),
            t("throughput", language),
            tz=tz,
            lang=language,
        ),
        key="source_throughput",
        config=charts.PLOTLY_CONFIG,
    )
    st.subheader(t("heartbeats", language))
    beats = cache.live("worker_heartbeats")
    running = [worker_alive(v, now) for v in beats["beat_at"]]
    beats = beats.assign(
        status=[t("worker_running" if r else "worker_stopped", language) for r in running],
        started_at=[fmt_local(v, tz, "%m-%d %H:%M:%S") for v in beats["started_at"]],
        beat_at=[fmt_local(v, tz, "%m-%d %H:%M:%S") for v in beats["beat_at"]],
    )
    st.dataframe(
        localized(beats[["status", "name", "host", "pid", "started_at", "beat_at"]], language),
        hide_index=True,
        key="heartbeats",
    )
    st.subheader(t("quarantine", language))
    names = sorted(set(rows["name"])) if not rows.empty else []
    source = st.selectbox(
        t("page_sources", language),
        ["", *names],
        key="q_source",
        format_func=lambda v: v or t("filter_all", language),
    )
    records = cache.live("quarantined", source or None, 200)
    st.dataframe(
        localized(
            records.assign(quarantined_at=[fmt_local(v, tz) for v in records["quarantined_at"]]),
            language,
        ),
        hide_index=True,
        key="quarantine_table",
    )


def _channels(now, language: Lang) -> None:
    """Notification channels next to the sources: a broken robot is an operator's problem too."""
    st.subheader(t("channels_health", language))
    rows, tz = channel_rows(now), holiday_calendar().tz
    if rows.empty:
        st.caption(t("no_data", language))
        return
    for row in rows[rows["status"] == "failing"].itertuples():
        st.error(f"{row.name}：{t('channel_failing', language)} {row.last_error}")
    table = rows.assign(
        status=[t(f"channel_{s}", language) for s in rows["status"]],
        last_sent_at=[fmt_local(v, tz, "%m-%d %H:%M:%S") for v in rows["last_sent_at"]],
    )
    st.dataframe(localized(table, language), hide_index=True, key="channel_table")
