"""值班大屏: the wall screen for duty managers; refreshes itself in a fragment, never in a loop."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast

import streamlit as st

from alerts.notify import roster as roster_mod
from dashboard import cache, charts, panels
from dashboard.alert_groups import fold_related
from dashboard.health import worker_alive
from dashboard.i18n import Lang, channel_name, t
from dashboard.inert import md_text
from dashboard.pages.common import (
    failing_channels,
    holiday_calendar,
    loaded_config,
    now_utc,
    source_rows,
)
from dashboard.playlist import alert_tally, current_slot, indicator, parse_period
from dashboard.settings import dashboard_settings
from dashboard.timeutil import change_pct, fmt_local, local_midnight
from dashboard.ui import WALL_CSS, is_kiosk, lang, require_session, static_css
from domain.calendar import zone_name
from domain.severity import SEVERITY_SHORT

REFRESH = dashboard_settings().wall_refresh_seconds
CHART_CONFIG = {"displayModeBar": False, "staticPlot": False, "responsive": True}
WEEK = timedelta(days=7)
TABLE_ROWS = 5  # the wall's alert table: rows of up to two lines, with a note of the rest
ALERT_ROWS = 10  # the playlist's alert list: rows of 52 px fit a 768-pixel-high TV
DEFAULT_PERIOD = 60  # seconds per view when the sidebar's toggle turns the playlist on
REGION_ROWS = 17  # per column: two columns hold all 34 provincial divisions


def _delta(current: int, previous: int) -> str | None:
    pct = change_pct(current, previous)
    if pct is None:
        return None
    return f"{pct:+.0f}% {t('vs_last_week', lang())}"


def render() -> None:
    static_css(WALL_CSS)
    if not is_kiosk():
        st.caption(f"{t('page_wall', lang())} · {t('wall_kiosk_hint', lang())}")
        _playlist_toggle()
    live_wall()


def _playlist_toggle() -> None:
    """The wall's one setting, in the sidebar (a kiosk has none): the toggle writes
    ``playlist`` into the address, which is what a TV's bookmark then carries."""
    on = parse_period(st.query_params.get("playlist")).period is not None
    st.session_state["wall_playlist"] = on  # the address decides, also after it was edited
    st.sidebar.toggle(
        t("playlist_toggle", lang()).format(seconds=DEFAULT_PERIOD),
        key="wall_playlist",
        on_change=_playlist_changed,
    )


def _playlist_changed() -> None:
    if st.session_state.get("wall_playlist"):
        st.query_params["playlist"] = str(DEFAULT_PERIOD)
    elif "playlist" in st.query_params:
        del st.query_params["playlist"]


@st.fragment(run_every=REFRESH)
def live_wall() -> None:
    """Everything on the wall, re-run every few seconds; elements keep their keys so nothing flickers.

    With ``?playlist=N`` the fragment shows the view the wall clock picks (``dashboard.playlist``):
    every TV in the room agrees, and the switch comes at the first refresh after the turn.
    """
    require_session()
    language = lang()
    now = now_utc(REFRESH)
    tz = holiday_calendar().tz
    choice = parse_period(st.query_params.get("playlist"))
    slot = current_slot(datetime.now(UTC).timestamp(), choice.period) if choice.period else None
    view = slot.view if slot else "wall"
    if view == "alerts":
        _alerts_view(now, tz, language)
    elif view == "regions":
        _regions_view(now, tz, language)
    else:
        _wall_view(now, tz, language)
    updated = fmt_local(now, tz, "%Y-%m-%d %H:%M:%S")
    if language == "zh":
        footer = f"{t('updated_at', language)} {updated}（{zone_name(tz)}）"
    else:  # the zone's own name, not 北京时间, on English pages
        footer = f"{t('updated_at', language)} {updated} ({getattr(tz, 'key', tz)})"
    if slot is not None:
        footer += f" · {indicator(slot, language)}"
    elif choice.invalid:  # on the same line: a note must not push the wall off the screen
        footer += f" · {t('playlist_invalid', language)}"
    st.caption(footer)


def _wall_view(now: datetime, tz: tzinfo, language: Lang) -> None:
    """The wall as it always was: numbers, alerts, trend, top products, events and regions."""
    config = loaded_config()
    summary = cache.live("wall_summary", now, local_midnight(now, tz))
    alerts = cache.live("active_alerts")

    today = sum(summary.today.values())
    hour = sum(summary.last_hour.values())
    top = st.columns([1, 1, 1, 1.3])
    top[0].metric(
        t("today", language),
        f"{today:,}",
        _delta(today, sum(summary.today_last_week.values())),
        delta_color="inverse",
    )
    top[1].metric(
        t("last_hour", language),
        f"{hour:,}",
        _delta(hour, sum(summary.last_hour_last_week.values())),
        delta_color="inverse",
    )
    firing = int((alerts["state"] != "acknowledged").sum()) if not alerts.empty else 0
    top[2].metric(
        t("active_alerts", language),
        f"{len(alerts)}",
        t("unacknowledged", language).format(n=firing) if firing else None,
        delta_color="inverse",
    )
    with top[3]:
        _on_duty(config, now)

    channels = sorted(set(summary.today) | set(summary.last_hour))
    if channels:
        cols = st.columns(len(channels))
        for col, channel in zip(cols, channels, strict=True):
            col.metric(
                channel_name(channel, language),
                f"{summary.today.get(channel, 0):,}",
                f"{t('last_hour', language)} {summary.last_hour.get(channel, 0)}",
                delta_color="off",
                delta_arrow="off",
            )

    _source_banner(config, now)

    left, right = st.columns([1.4, 1])  # the alert titles take the room they need
    with left:
        if alerts.empty:
            st.success(t("no_active_alerts", language))
        else:
            situations = fold_related(alerts)
            table = panels.alerts_table(situations.head(TABLE_ROWS), now, language)
            hidden = len(situations) - TABLE_ROWS  # nobody scrolls a wall: say what is not shown
            more = t("alerts_not_shown", language).format(n=hidden) if hidden > 0 else ""
            st.html(panels.table_html(table, more))
    with right.container(key="wall_trend"):  # the chart, or its empty state
        since, until = now - timedelta(hours=6), now + timedelta(minutes=5)
        grid = panels.channel_trend_grid(
            cache.live("channel_trend", since, until), since, until, tz=tz
        )
        if grid.empty:
            st.html(
                panels.bars_html(
                    [], [], t("trend_by_channel", language), empty_text=t("no_data", language)
                )
            )
        else:
            st.altair_chart(panels.channel_trend_chart(grid, language))

    day_ago = now - timedelta(hours=24)
    rows = 6  # what a TV shows in type that reads from three metres
    products = cache.live("top_products", day_ago, now + timedelta(minutes=5), rows)
    events = cache.live("dimension_totals", "event_tag", day_ago, now + timedelta(minutes=5), rows)
    regions = cache.live("dimension_totals", "region", day_ago, now + timedelta(minutes=5), rows)
    no_data = t("no_data", language)
    a, b, c = st.columns(3)
    a.html(
        panels.bars_html(
            list(products["product_name"]),
            list(products["count"]),
            t("top_products", language),
            empty_text=no_data,
        )
    )
    b.html(
        panels.bars_html(
            list(events["value"]),
            list(events["count"]),
            t("top_events", language),
            colour="#e5484d",
            empty_text=no_data,
        )
    )
    c.html(
        panels.bars_html(  # ranked, in large type: a tile map's 31 labels are unreadable at 3 m
            list(regions["value"]),
            list(regions["count"]),
            t("province_grid", language),
            colour="#f76b15",
            empty_text=no_data,
        )
    )


def _alerts_view(now: datetime, tz: tzinfo, language: Lang) -> None:
    """The playlist's alert list: counts by state and level on top, then one large row per
    situation, as many as a TV shows (the rest are counted, not squeezed in)."""
    alerts = cache.live("active_alerts")
    tally = alert_tally(alerts)
    cols = st.columns(7)
    cols[0].metric(t("active_alerts", language), f"{tally.total}")
    cols[1].metric(t("alerts_firing", language), f"{tally.firing}")
    cols[2].metric(t("alerts_acknowledged", language), f"{tally.acknowledged}")
    for col, (level, n) in zip(cols[3:], tally.by_severity.items(), strict=True):
        col.metric(t("severity_count", language).format(level=SEVERITY_SHORT[level]), f"{n}")
    situations = fold_related(alerts)
    with st.container(key="wall_full_alerts"):
        st.plotly_chart(
            charts.open_alerts_figure(situations, now, language, tz=tz, max_rows=ALERT_ROWS),
            key="wall_alert_list",
            config=CHART_CONFIG,
        )
    hidden = len(situations) - ALERT_ROWS
    if hidden > 0:
        st.caption(t("alerts_not_shown", language).format(n=hidden))


def _regions_view(now: datetime, tz: tzinfo, language: Lang) -> None:
    """The playlist's regions: every region with complaints today, ranked, with the change
    against the same time last week, in two columns of large bars."""
    day_start, until = local_midnight(now, tz), now + timedelta(microseconds=1)
    today = cache.live("dimension_totals", "region", day_start, until)
    before = cache.live("dimension_totals", "region", day_start - WEEK, until - WEEK)
    rows = charts.region_rank_rows(today, before)
    total = int(rows["count"].sum())
    top = st.columns([2, 1])
    top[0].metric(
        t("regions_today_title", language),
        f"{total:,}",
        _delta(total, int(before["count"].sum())),  # every region of last week, not only today's
        delta_color="inverse",
    )
    top[1].metric(t("playlist_view_regions", language), f"{len(rows)}")
    shown = rows.head(2 * REGION_ROWS)
    halves = [shown.iloc[:REGION_ROWS], shown.iloc[REGION_ROWS:]]
    scale = int(rows["count"].max()) if not rows.empty else None
    with st.container(key="wall_full_regions"):
        left, right = st.columns(2)
        for col, half, key in zip(
            (left, right), halves, ("wall_regions_a", "wall_regions_b"), strict=True
        ):
            if half.empty and key == "wall_regions_b":
                continue
            col.plotly_chart(
                charts.region_rank_figure(half, language, scale_max=scale),
                key=key,
                config=CHART_CONFIG,
            )


def _on_duty(config, now) -> None:
    language = lang()
    if config is None:
        st.metric(t("on_duty", language), "—")
        return
    tz = holiday_calendar().tz
    person = roster_mod.on_call(config.roster, now, tz)
    if person is None:
        st.metric(t("on_duty", language), "—")
        st.error(t("nobody_on_duty", language))
        return
    st.metric(
        t("on_duty", language),
        md_text(person.name),  # metric values render Markdown too
        person.phone or None,
        delta_color="off",
        delta_arrow="off",
    )
    gaps_fn = getattr(roster_mod, "roster_gaps", None)
    if gaps_fn is not None:
        gaps = gaps_fn(config.roster, now, now + timedelta(hours=24), tz)
        if gaps:
            start, end = gaps[0]
            st.warning(
                f"{t('nobody_on_duty', language)} {fmt_local(start, tz)}–{fmt_local(end, tz)}"
            )
    errors, warnings = cache.roster_check(cache.config_dir())
    ahead = [text.removeprefix("roster.yaml: ") for text in errors + warnings]
    if ahead:  # holes in the holidays ahead, seen long before the night they open
        more = f"（共 {len(ahead)} 处）" if len(ahead) > 1 else ""
        st.warning(f"{t('roster_gaps_ahead', language)}：{ahead[0]}{more}")


def _source_banner(config, now) -> None:
    """A red banner naming every stale or failing source, and a dead worker; green otherwise."""
    language = lang()
    rows = source_rows(cache.live("source_states"), config, now)
    bad = rows[rows["status"] != "ok"] if not rows.empty else rows
    beats = cache.live("worker_heartbeats")
    alive = not beats.empty and worker_alive(beats["beat_at"].max(), now)
    if not bad.empty:
        names = "，".join(
            f"{md_text(r.name)}（{t('source_' + r.status, language)}）"
            for r in cast("Iterable[Any]", bad.itertuples())
        )
        st.error(f"⚠ {t('stale_sources', language)}：{names}", icon=":material/error:")
    if not alive:
        st.error(f"⚠ {t('worker_down', language)}", icon=":material/error:")
    broken = failing_channels(now)
    if not broken.empty:
        names = "，".join(
            f"{r.name}（{r.last_error[:80]}）" for r in cast("Iterable[Any]", broken.itertuples())
        )
        st.error(f"⚠ {t('failing_channels', language)}：{names}", icon=":material/error:")
    if bad.empty and alive and broken.empty:
        st.success(
            f"{t('source_health', language)}：{t('all_sources_ok', language)}（{len(rows)}）"
        )
