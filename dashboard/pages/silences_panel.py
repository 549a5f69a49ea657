"""静默管理 on the alert console: silences as objects, as in Alertmanager — matchers, start and
end, author and reason; a list; end one early; and a preview of the alerts a new one catches.

Writes go through ``alerts/state/actions.py``; matchers and reasons are outside text, shown as data.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pandas as pd
import streamlit as st

from alerts.state import actions
from dashboard import cache
from dashboard.auth import User
from dashboard.i18n import Lang, channel_name, t
from dashboard.inert import md_text
from dashboard.pages.common import holiday_calendar
from dashboard.timeutil import fmt_local
from storage.db import session_scope

DURATIONS = (30, 60, 120, 240, 480, 1440, 4320)  # minutes
LABEL_KEYS = {
    "rule": "label_rule",
    "severity": "severity",
    "product_code": "product",
    "product_line": "product_line",
    "region": "region",
    "channel": "channel",
    "category": "category",
    "event_tag": "label_event",
    "branch": "branch",
    "source": "label_source",
    "cluster": "label_cluster",
}


def matchers_text(matchers: dict, language: Lang) -> str:
    """``{"region": ["广东", "浙江"], "channel": "hotline"}`` → 地区 = 广东 或 浙江 · 渠道 = 热线."""
    either = " 或 " if language == "zh" else " or "
    parts = []
    for name, wanted in matchers.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        shown = [channel_name(str(v), language) if name == "channel" else str(v) for v in values]
        parts.append(f"{t(LABEL_KEYS.get(name, name), language)} = {either.join(shown)}")
    return " · ".join(parts)


def silence_table(frame: pd.DataFrame, language: Lang, tz: tzinfo) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": frame["id"],
            t("silence_matchers", language): [
                matchers_text(m, language) for m in frame["matchers"]
            ],
            t("silence_from", language): [fmt_local(v, tz) for v in frame["starts_at"]],
            t("silence_until", language): [fmt_local(v, tz) for v in frame["ends_at"]],
            t("silence_status", language): [t(f"silence_{s}", language) for s in frame["status"]],
            t("silence_by", language): frame["created_by"],
            t("silence_reason", language): frame["comment"],
        }
    )


def _write(action, *args) -> bool:
    try:
        with session_scope(cache.write_factory()) as session:
            action(session, *args)
    except actions.ActionError as exc:
        st.error(md_text(exc))  # messages may quote labels
        return False
    cache.after_write()
    return True


def render_silences(user: User | None, now: datetime, language: Lang) -> None:
    with st.expander(t("silences", language), expanded=False):
        frame = cache.live("silences", now.replace(second=0, microsecond=0))
        if frame.empty:
            st.caption(t("no_silences", language))
        else:
            st.dataframe(
                silence_table(frame, language, holiday_calendar().tz),
                hide_index=True,
                key="silence_list",
            )
        if user is None or not user.can_act or not user.username:
            return
        active = [int(i) for i, s in zip(frame["id"], frame["status"], strict=True) if s != "ended"]
        if active:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            pick = left.selectbox(t("silence_end_which", language), active, key="silence_end_id")
            if right.button(t("silence_end_now", language), key="silence_end") and _write(
                actions.end_silence, int(pick), user.username, now.replace(second=0, microsecond=0)
            ):
                st.rerun()
        _new_silence(user, now, language)


def _new_silence(user: User, now: datetime, language: Lang) -> None:
    st.markdown(f"**{t('silence_new', language)}**")
    offered = cache.slow("alert_labels_in_use", now.replace(minute=0, second=0) - timedelta(days=7))
    columns = st.columns(3)
    matchers: dict[str, list[str]] = {}
    for i, name in enumerate(actions.SILENCE_LABELS):
        choices = offered.get(name, [])
        if not choices:
            continue
        picked = columns[i % 3].multiselect(
            t(LABEL_KEYS[name], language),
            choices,
            key=f"silence_m_{name}",
            format_func=(lambda v: channel_name(v, language)) if name == "channel" else str,
            placeholder=t("filter_all", language),
        )
        matchers[name] = list(picked)
    minutes = st.selectbox(
        t("silence_minutes", language), DURATIONS, index=1, key="silence_new_minutes"
    )
    reason = st.text_input(t("silence_reason", language), key="silence_new_reason")
    caught = cache.live("silence_preview", {k: tuple(v) for k, v in matchers.items() if v})
    if any(matchers.values()):
        ids = ", ".join(f"#{i}" for i in caught["id"]) or "—"
        st.caption(t("silence_preview", language).format(n=len(caught), ids=ids))
    start = now.replace(second=0, microsecond=0)  # the minute the pages look at
    if st.button(t("silence_create", language), key="silence_create") and _write(
        actions.create_silence,
        matchers,
        start,
        start + timedelta(minutes=int(minutes)),
        user.username,
        reason,
        now,
    ):
        st.toast(t("done", language))
        st.rerun()
