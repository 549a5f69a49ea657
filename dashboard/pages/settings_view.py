"""配置: the loaded rules, notification channels, roster and sources (read-only), and the config
check result, as localised tables (``dashboard.config_view``): never a JSON dump, never a secret."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import streamlit as st
from pydantic import BaseModel

from config.loader import RadarConfig
from config.secrets import weak_secrets
from dashboard import cache
from dashboard import config_view as cv
from dashboard.i18n import Lang, t
from dashboard.inert import md_text
from dashboard.settings import dashboard_settings
from dashboard.ui import lang

SUMMARY = ("name", "kind", "enabled", "description")


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
    _dashboard_settings(language)
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
        _rules(config, language)
    with tabs[1]:
        _channels(config, language)
    with tabs[2]:
        _roster(config, language)
    with tabs[3]:
        _items(config.sources.sources, language)


def _table(rows: Sequence[dict[str, str]] | Sequence[tuple[str, str]], language: Lang) -> None:
    """Rows of dicts (columns by key) or (setting, value) pairs, as a plain table of text."""
    if not rows:
        st.caption(t("cfg_none", language))
        return
    if isinstance(rows[0], tuple):
        headers = [t("cfg_setting", language), t("cfg_value", language)]
        frame = pd.DataFrame(list(rows), columns=headers)
    else:
        frame = pd.DataFrame(list(rows))
    st.table(frame.astype(str), hide_index=True)


def _headers(language: Lang) -> dict[str, str]:
    return {field: t(f"cfg_{field}", language) for field in SUMMARY}


def _items(items: Iterable[BaseModel], language: Lang) -> None:
    """One summary row per rule, channel or source, then every setting of each, folded."""
    items = list(items)
    _table([cv.summary_row(item, language, _headers(language)) for item in items], language)
    for item in items:
        name = str(getattr(item, "name", ""))
        kind = cv.kind_name(str(getattr(item, "kind", "")), language)
        with st.expander(f"{md_text(name)} · {kind} · {t('cfg_details', language)}"):
            _table(cv.detail_rows(item, language), language)


def _rules(config: RadarConfig, language: Lang) -> None:
    rules = config.rules
    st.subheader(t("cfg_general", language))
    general = cv.detail_rows(rules, language, skip=("rules", "calendar", "severity_channels"))
    general.insert(1, (cv.label("timezone", language), rules.calendar.timezone))
    general.insert(2, (cv.label("holidays", language), _holidays(config, language)))
    general += cv.detail_rows(rules.severity_channels, language)
    _table(general, language)
    st.subheader(t("rules", language))
    _items(rules.rules, language)


def _holidays(config: RadarConfig, language: Lang) -> str:
    entries = config.rules.calendar.holidays
    parts = []
    for h in entries:
        span = h.start.isoformat() + (f"–{h.end.isoformat()}" if h.end else "")
        parts.append(f"{h.name or cv.word(h.kind, language)} {span}")
    return "；".join(parts) if parts else cv.word("none", language)


def _channels(config: RadarConfig, language: Lang) -> None:
    _items(config.channels.channels, language)
    routes = getattr(config, "routes", None)
    if routes is None:
        return
    st.subheader(t("cfg_receivers", language))
    _table(
        [
            {
                t("cfg_name", language): r.name,
                cv.label("channels", language): cv.value_text("channels", r.channels, language),
            }
            for r in routes.receivers
        ],
        language,
    )
    st.subheader(t("cfg_routing", language))
    rows = cv.route_rows(routes.route, language, t("cfg_route_all", language))
    if rows:
        frame = pd.DataFrame(
            rows, columns=[cv.label("match", language), cv.label("receiver", language)]
        )
        st.table(frame, hide_index=True)
    timing = cv.detail_rows(routes, language, skip=("receivers", "route"))
    _table(timing, language)


def _roster(config: RadarConfig, language: Lang) -> None:
    roster = config.roster
    st.subheader(t("cfg_people", language))
    _table(
        [
            {
                t("cfg_name", language): p.name,
                t("cfg_id", language): p.id,
                t("cfg_phone", language): p.phone or "—",
                t("cfg_email", language): p.email or "—",
            }
            for p in roster.people
        ],
        language,
    )
    if roster.teams:
        names = {p.id: p.name for p in roster.people}
        st.subheader(t("cfg_teams", language))
        _table(
            [
                {
                    t("cfg_name", language): team.name or team.id,
                    t("cfg_members", language): "、".join(names.get(m, m) for m in team.members),
                }
                for team in roster.teams
            ],
            language,
        )
    st.subheader(t("cfg_shifts", language))
    headers = {k: t(f"cfg_{k}", language) for k in ("role", "who", "dates", "hours", "note")}
    _table(cv.shift_rows(roster, language, headers), language)
    if roster.overrides:
        names = {p.id: p.name for p in roster.people}
        st.subheader(t("cfg_overrides", language))
        _table(
            [
                {
                    t("cfg_role", language): cv.role_name(o.role, language),
                    t("cfg_who", language): names.get(o.who, o.who),
                    t("cfg_dates", language): f"{o.start:%Y-%m-%d %H:%M} – {o.end:%Y-%m-%d %H:%M}",
                    t("cfg_note", language): o.reason,
                }
                for o in roster.overrides
            ],
            language,
        )


def _dashboard_settings(language: Lang) -> None:
    """The dashboard's own settings (environment variables), in words."""
    settings = dashboard_settings()
    with st.expander(t("cfg_dashboard", language)):
        _table(
            [
                (t("cfg_auth", language), t(f"cfg_auth_{settings.auth}", language)),
                (t("cfg_deadlines", language), t(settings.deadline_days, language)),
                (t("cfg_wall_refresh", language), str(settings.wall_refresh_seconds)),
                (t("cfg_session", language), str(settings.session_minutes)),
                (t("cfg_stale", language), str(settings.stale_source_minutes)),
            ],
            language,
        )


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
