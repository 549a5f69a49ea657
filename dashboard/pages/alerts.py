"""告警处置: the alert console for on-call staff; filters, one alert's evidence, and actions.

Writes go only through ``alerts/state/actions.py``, which records each action with who and when.
Complaint texts are shown as data (``st.dataframe``), never as HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from alerts.detect.findings import expected_text
from alerts.notify.ack_links import InvalidAckToken, verify_ack_token
from alerts.state import actions
from config.roster import RosterFile
from config.secrets import ack_links_trusted
from dashboard import cache, charts
from dashboard.alert_timeline import actor_name, timeline
from dashboard.alert_titles import alert_title, row_title
from dashboard.auth import User
from dashboard.i18n import Lang, channel_name, severity_name, state_name, t
from dashboard.inert import md_text
from dashboard.pages.common import holiday_calendar, loaded_config
from dashboard.pages.silences_panel import render_silences
from dashboard.timeutil import age_text, fmt_local
from dashboard.ui import current_user, lang, show_failure
from dashboard.why_panel import render_why
from domain.severity import severity_style
from domain.states import EventKind
from storage.db import session_scope

SILENCE_CHOICES = (30, 60, 120, 240, 480, 1440)
# the sample complaints' columns as people call them
SAMPLE_LABELS = {"id": "complaint_no", "product_name": "product"}


def handle_ack_link(user: User | None, now: datetime) -> None:
    """Acknowledge from a signed link (``?ack=<token>``) once, and say what happened."""
    token = st.session_state.pop("pending_ack", None) or st.query_params.get("ack")
    if not token:
        return
    st.query_params.pop("ack", None)
    language = lang()
    if not ack_links_trusted():  # signed with a public key: a forgery cannot be told apart
        st.error(t("ack_link_disabled", language))
        return
    try:
        claim = verify_ack_token(str(token), now)
    except InvalidAckToken:
        st.error(t("ack_link_bad", language))
        return
    if user is not None and not user.can_act:
        st.error(t("no_permission_act", language))
        return
    # Signed in: the person who clicked; sign-in off: the receiver the link was sent to.
    actor = user.username if user is not None and _signed_in() else claim.receiver
    try:
        with session_scope(cache.write_factory()) as session:
            actions.acknowledge(session, claim.alert_id, actor, now)
    except actions.ActionError as exc:
        st.warning(f"{t('ack_link_state', language)}（#{claim.alert_id}）：{md_text(exc)}")
    else:
        cache.after_write()
        who = actor_name(actor, roster_names(), language)  # the person's name, not "zhang-wei"
        st.success(f"{t('ack_link_ok', language)}：#{claim.alert_id}（{md_text(who)}）")
    _show(claim.alert_id)


def _signed_in() -> bool:
    from dashboard.settings import dashboard_settings

    return dashboard_settings().auth != "off"


def _severity_style(row: pd.Series) -> list[str]:
    fill, text = severity_style(int(row["_severity"]))
    column = t("severity", lang())
    return [f"background-color: {fill}; color: {text}" if c == column else "" for c in row.index]


def titles(frame: pd.DataFrame, language: Lang) -> list[str]:
    return [row_title(row, language) for row in frame.itertuples(index=False)]


def _alert_table(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    language, tz = lang(), holiday_calendar().tz
    names = roster_names()
    return pd.DataFrame(
        {
            "ID": frame["id"],
            t("severity", language): [severity_name(s, language) for s in frame["severity"]],
            t("title", language): titles(frame, language),
            t("state", language): [state_name(s, language) for s in frame["state"]],
            t("started", language): [fmt_local(v, tz) for v in frame["started_at"]],
            t("age", language): [
                age_text((r if pd.notna(r) else now) - s, language)
                for s, r in zip(frame["started_at"], frame["resolved_at"], strict=True)
            ],
            t("count", language): frame["count"],
            t("owner", language): [names.get(a, a) if a else "" for a in frame["assignee"]],
            t("handler", language): [
                actor_name(a, names, language) if a else "" for a in frame["acknowledged_by"]
            ],
            t("silenced", language): frame["silenced"],
            "_severity": frame["severity"],
        }
    )


def roster_names() -> dict[str, str]:
    """Roster ids as people's names: an ack by link is stored as "li-na", shown as 李娜."""
    config = loaded_config()
    return {p.id: p.name for p in config.roster.people} if config is not None else {}


def _show(alert_id: int) -> None:
    """The link names the alert: ``?alert=N`` is the one truth about which alert is shown."""
    st.query_params["alert"] = str(alert_id)
    st.session_state["alert_select"] = alert_id


def _picked() -> None:
    st.query_params["alert"] = str(st.session_state["alert_select"])


def _wanted() -> int | None:
    value = st.query_params.get("alert")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def render() -> None:
    language = lang()
    st.title(t("page_alerts", language))
    try:
        _render(language)
    except Exception as exc:  # a page never shows a traceback
        show_failure("alert console", exc)


def silenced_by(by: str, why: str, language: Lang) -> str:
    """Who silenced the alert and why, the reason's first line only; no dangling colon when
    the silence was made without one."""
    reason = why.split("\n")[0].strip()
    return f"{by}{'：' if language == 'zh' else ': '}{reason}" if reason else by


def _render(language: Lang) -> None:
    user = current_user()
    now = datetime.now(UTC)
    handle_ack_link(user, now)
    wanted = _wanted()
    with st.expander(t("filters", language), expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        states = c1.multiselect(
            t("states", language),
            ["pending", "firing", "acknowledged", "resolved"],
            default=["pending", "firing", "acknowledged"],
            format_func=lambda s: state_name(s, language),
            key="f_states",
            placeholder=t("filter_all", language),
        )
        severities = c2.multiselect(
            t("severity", language),
            [1, 2, 3, 4],
            format_func=lambda s: severity_name(s, language),
            key="f_severity",
            placeholder=t("filter_all", language),
        )
        rules = c3.multiselect(
            t("rules", language),
            cache.slow("alert_rules"),
            key="f_rules",
            placeholder=t("filter_all", language),
        )
        days = c4.number_input(t("period_days", language), 1, 90, 7, key="f_days")
    since = (now - timedelta(days=int(days))).replace(second=0, microsecond=0)
    frame = cache.live("list_alerts", since, tuple(states), tuple(severities), tuple(rules))
    ids = [int(i) for i in frame["id"]]
    if wanted is not None and cache.live("alert_detail", wanted) is None:
        st.error(t("alert_missing", language).format(id=wanted))
        wanted = None
    if not ids and wanted is None:
        st.info(t("no_alerts_found", language))
        return
    current = wanted if wanted is not None else ids[0]
    if current not in ids:
        st.caption(t("alert_outside_filter", language).format(id=current))
    options = ids if current in ids else [current, *ids]
    by_id = dict(zip(ids, titles(frame, language), strict=True))
    if st.session_state.get("alert_select") != current:
        st.session_state["alert_select"] = current
    st.query_params["alert"] = str(current)
    st.selectbox(
        t("choose_alert", language),
        options,
        format_func=lambda i: f"#{i} {by_id.get(i, '')}",
        key="alert_select",
        on_change=_picked,
    )
    _detail(current, user, now, frame)
    render_silences(user, now, language)
    if not frame.empty:
        st.markdown(f"**{t('alert_list', language)}**")
        table = _alert_table(frame, now)
        st.dataframe(
            table.style.apply(_severity_style, axis=1),
            hide_index=True,
            column_order=[c for c in table.columns if c != "_severity"],
            key="alert_list",
        )


def evidence_window_minutes(evidence: dict) -> int:
    """The rule's counting window, from the evidence's since/until (60 when unknown)."""
    try:
        since = datetime.fromisoformat(evidence["since"])
        until = datetime.fromisoformat(evidence["until"])
    except (KeyError, TypeError, ValueError):
        return 60
    return max(5, int((until - since).total_seconds() // 60))


def window_text(minutes: int, language: Lang) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} 小时" if language == "zh" else f"{hours} h"
    return f"{minutes} 分钟" if language == "zh" else f"{minutes} min"


def _next_open(frame: pd.DataFrame, alert_id: int) -> int | None:
    active = frame[frame["state"].isin(["pending", "firing", "acknowledged"])]
    others = [int(i) for i in active["id"] if int(i) != alert_id]
    return others[0] if others else None


def _resolved_banner(alert_id: int, alert: dict, events: pd.DataFrame, language: Lang) -> None:
    resolved = events[events["kind"] == EventKind.RESOLVED]
    who = actor_name(resolved["actor"].iloc[-1], roster_names(), language) if len(resolved) else ""
    at = fmt_local(alert["resolved_at"], holiday_calendar().tz, "%m-%d %H:%M")
    st.success(t("alert_resolved_banner", language).format(id=alert_id, at=at, by=who or "—"))
    # said here, not only in the button's hover text: a touch screen has none, and a person
    # who resolves a surge that goes on sees it firing again within a minute
    st.caption(t("resolve_help", language))


def _detail(alert_id: int, user: User | None, now: datetime, frame: pd.DataFrame) -> None:
    language, tz = lang(), holiday_calendar().tz
    detail = cache.live("alert_detail", alert_id)
    if detail is None:
        st.error(t("alert_missing", language).format(id=alert_id))
        return
    alert, evidence = detail.alert, detail.alert["evidence"]
    title = alert_title(
        alert["title"],
        alert["rule_kind"],
        alert["key"],
        alert["count"],
        alert["expected"],
        language,
        evidence,
        alert["product_name"],
    )
    st.subheader(f"#{alert_id} {md_text(title)}")  # the title holds outside labels and names
    if alert["state"] == "resolved":
        _resolved_banner(alert_id, alert, detail.events, language)
        following = _next_open(frame, alert_id)
        if following is not None:
            st.button(
                t("next_open_alert", language), key="next_open", on_click=_show, args=(following,)
            )
    # at this moment, not the minute's start: a silence made a few seconds ago starts after it
    silence = cache.live("silenced_until", alert_id, now)
    if silence is not None and alert["state"] != "resolved":
        end, by, why = silence
        st.warning(
            t("silenced_until", language).format(
                at=fmt_local(end, tz),
                who=silenced_by(md_text(by), md_text(why.split("\n")[0]), language),
            )
        )
    if user is not None and user.can_act:
        _actions(alert_id, alert["state"], user, now)
    elif user is not None:
        st.info(t("no_permission_act", language))
    m = st.columns(6)
    m[0].metric(t("severity", language), severity_name(alert["severity"], language))
    m[1].metric(t("state", language), state_name(alert["state"], language))
    m[2].metric(t("count", language), int(alert["count"]))
    expected = alert["expected"]
    shown = f"{expected:g}" if alert["rule_kind"] == "threshold" else expected_text(expected)
    m[3].metric(t("expected", language), shown)  # a baseline to one decimal, 26.0 not 26.007
    # metric values render Markdown: the handler's name is typed by an operator
    handler = actor_name(alert["acknowledged_by"], roster_names(), language)
    m[4].metric(t("handler", language), md_text(handler) if alert["acknowledged_by"] else "—")
    owner = roster_names().get(alert["assignee"], alert["assignee"])
    m[5].metric(t("owner", language), md_text(owner) if owner else "—")
    _situation(alert_id, alert["parent_alert_id"], now)
    render_why(alert_id, user, language, tz)

    start = alert["started_at"]
    end = alert["resolved_at"] or now
    window = evidence_window_minutes(evidence)
    ids = [int(i) for i in evidence.get("complaint_ids", [])]
    if alert["rule_kind"] == "copied_text":  # a cluster of texts, not a count key
        trend = cache.live("complaints_trend", tuple(ids))
    else:
        trend = cache.live(
            "key_trend",
            {k: str(v) for k, v in alert["key"].items()},
            start - timedelta(minutes=window) - timedelta(hours=6),
            end + timedelta(hours=1),
            evidence.get("filters") or None,
        )
    labels = {
        "title": t("evidence_chart", language).format(w=window_text(window, language)),
        "count": t("count", language),
        "expected": t("expected", language),
    }
    st.plotly_chart(
        charts.evidence_figure(
            trend, window, alert["expected"], start, labels, tz=tz, lang=language
        ),
        key="alert_trend",
        config=charts.PLOTLY_CONFIG,
    )
    st.caption(f"{t('evidence', language)}：{len(ids)} / {alert['count']}")
    left, right = st.columns(2)
    regions = cache.live("complaint_breakdown", tuple(ids), "region")
    channels = cache.live("complaint_breakdown", tuple(ids), "channel")
    left.plotly_chart(
        charts.bar_figure(
            list(regions["value"]), list(regions["count"]), t("regions", language), height=300
        ),
        key="alert_regions",
        config=charts.PLOTLY_CONFIG,
    )
    right.plotly_chart(
        charts.bar_figure(
            [channel_name(c, language) for c in channels["value"]],
            list(channels["count"]),
            t("channels", language),
            height=300,
        ),
        key="alert_channels",
        config=charts.PLOTLY_CONFIG,
    )
    st.markdown(f"**{t('samples', language)}**")
    if user is not None and user.can_read_texts:
        samples = cache.live("complaints_by_ids", tuple(ids), 20)
        samples = samples.assign(
            received_at=[fmt_local(v, tz) for v in samples["received_at"]],
            channel=[channel_name(c, language) for c in samples["channel"]],
        ).rename(columns={c: t(SAMPLE_LABELS.get(c, c), language) for c in samples.columns})
        st.dataframe(samples, hide_index=True, key="alert_samples")
    else:
        st.info(t("texts_hidden", language))
    st.markdown(f"**{t('timeline', language)}**")
    st.dataframe(
        timeline(detail.events, roster_names(), language, tz), hide_index=True, key="alert_audit"
    )


def _situation(alert_id: int, lead_id: int | None, now: datetime) -> None:
    """The other alerts of this alert's situation, each with its own count and expectation:
    one burst seen by several rules is paged once, through the lead."""
    language = lang()
    members = cache.live("situation_alerts", alert_id)
    if members.empty:
        return
    lead = int(members["id"].iloc[0])
    if lead_id is not None:
        st.caption(t("situation_member", language).format(lead=lead))
    else:
        st.caption(t("situation_lead", language).format(n=len(members) - 1))
    table = _alert_table(members, now).assign(**{t("expected", language): members["expected"]})
    st.dataframe(
        table, hide_index=True, column_order=[c for c in table.columns if c != "_severity"],
        key="alert_situation",
    )  # fmt: skip


def _run(action, alert_id: int, *args) -> None:
    """One action in its own transaction; the result shows as a toast, errors in plain words."""
    try:
        with session_scope(cache.write_factory()) as session:
            action(session, alert_id, *args)
    except actions.ActionError as exc:
        st.error(md_text(exc))
        return
    cache.after_write()
    st.toast(t("done", lang()))
    st.rerun()


def _take_operator() -> None:
    st.session_state["operator"] = st.session_state.get("operator_inline", "")


def _actions(alert_id: int, state: str, user: User, now: datetime) -> None:
    language = lang()
    actor = user.username
    if not actor:  # sign-in off and no operator typed: ask, never log a made-up name
        st.warning(t("operator_needed", language))
        st.text_input(  # here too: on a phone the sidebar is folded away
            t("operator", language),
            key="operator_inline",
            placeholder=t("operator_placeholder", language),
            on_change=_take_operator,
        )
        return
    row = st.container(horizontal=True)  # one row of buttons, also on a phone
    if state in ("pending", "firing") and row.button(
        t("acknowledge", language), key="act_ack", type="primary"
    ):
        _run(actions.acknowledge, alert_id, actor, now)
    if state != "resolved" and row.button(
        t("resolve", language), key="act_resolve", help=t("resolve_help", language)
    ):
        _run(actions.resolve, alert_id, actor, now)
    with row.popover(t("silence", language)):
        minutes = st.selectbox(t("silence_minutes", language), SILENCE_CHOICES, key="silence_min")
        reason = st.text_input(t("note", language), key="silence_note")
        if st.button(t("silence", language), key="act_silence", help=t("silence_help", language)):
            _run(actions.silence_alert, alert_id, actor, now, int(minutes), reason)
    with row.popover(t("add_note", language)), st.form("note_form", clear_on_submit=True):
        note = st.text_area(t("note", language), key="note_text")
        if st.form_submit_button(t("add_note", language)):
            _run(actions.add_note, alert_id, actor, now, note)
    if state == "firing" and row.button(
        t("escalate_now", language), key="act_escalate", help=t("escalate_now_help", language)
    ):
        _run(actions.escalate_now, alert_id, actor, now)
    if state != "resolved":
        with row.popover(t("merge", language)):
            into = st.number_input(
                t("merge_into", language), min_value=1, step=1, value=None, key="merge_into"
            )
            if st.button(t("merge", language), key="act_merge") and into is not None:
                _run(actions.merge, alert_id, actor, now, int(into))
    config = loaded_config()
    if config is not None and config.roster.people and state != "resolved":
        _people_actions(row, alert_id, state, actor, now, config.roster)


def _people_actions(
    row, alert_id: int, state: str, actor: str, now: datetime, roster: RosterFile
) -> None:
    """Reassign and add a responder: a person from the roster, paged by the worker's next pass."""
    language = lang()
    ids = [p.id for p in roster.people]
    names = {p.id: f"{p.name}（{p.id}）" for p in roster.people}
    with row.popover(t("reassign", language), help=t("reassign_help", language)):
        person = st.selectbox(
            t("reassign_to", language), ids, index=None, format_func=names.__getitem__,
            placeholder=t("pick_person", language), key="reassign_to",
        )  # fmt: skip
        if st.button(t("reassign", language), key="act_reassign") and person:
            _run(actions.reassign, alert_id, actor, now, person, roster)
    if state not in ("firing", "acknowledged"):
        return
    with row.popover(t("add_responder", language)):
        person = st.selectbox(
            t("add_responder_who", language), ids, index=None, format_func=names.__getitem__,
            placeholder=t("pick_person", language), key="responder_who",
        )  # fmt: skip
        if st.button(t("add_responder", language), key="act_responder") and person:
            _run(actions.add_responder, alert_id, actor, now, person, roster)
