"""配置: the loaded rules, notification channels and roster (read-only), and the config check result."""

from __future__ import annotations

import streamlit as st

from config.secrets import weak_secrets
from dashboard import cache
from dashboard.i18n import Lang, t
from dashboard.settings import dashboard_settings
from dashboard.ui import lang


def render() -> None:
    language = lang()
    st.title(t("page_settings", language))
    weak = weak_secrets()
    if weak:  # on every visit, the demo included: a copied demo setup must not go unnoticed
        reasons = [f"{w.name}: {w.reason_zh if language == 'zh' else w.reason_en}" for w in weak]
        st.error(t("weak_secrets", language) + "\n\n" + "\n".join(f"- {r}" for r in reasons))
    config, issues = cache.config_check(cache.config_dir())
    if issues:
        st.error(t("config_bad", language))
        st.code("\n".join(str(i) for i in issues), language=None)
    else:
        st.success(f"{t('config_ok', language)}：{cache.config_dir()}")
    settings = dashboard_settings()
    st.caption(
        f"sign-in: {settings.auth} · deadlines: {settings.deadline_days} · "
        f"wall refresh: {settings.wall_refresh_seconds}s"
    )
    if config is None:
        return
    _roster_check(language)
    tabs = st.tabs(
        [
            t("rules", language),
            t("routes", language),
            t("roster", language),
            t("page_sources", language),
        ]
    )
    with tabs[0]:
        st.json(config.rules.model_dump(mode="json"), expanded=2)
    with tabs[1]:
        st.json(config.channels.model_dump(mode="json"), expanded=2)
        routes = getattr(config, "routes", None)
        if routes is not None:
            st.json(routes.model_dump(mode="json"), expanded=2)
    with tabs[2]:
        st.json(config.roster.model_dump(mode="json"), expanded=2)
    with tabs[3]:
        st.json(config.sources.model_dump(mode="json"), expanded=2)


def _roster_check(language: Lang) -> None:
    """Gaps over the next 30 days, configured holidays and the next Spring Festival."""
    errors, warnings = cache.roster_check(cache.config_dir())
    if not errors and not warnings:
        st.success(t("roster_check_ok", language))
        return
    for text in errors:
        st.error(text)
    if warnings:
        st.warning(f"{t('roster_gaps_ahead', language)}：\n\n" + "\n\n".join(warnings))
