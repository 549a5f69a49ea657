"""Shared Streamlit helpers: language, kiosk mode, the signed-in user, safe text output."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import streamlit as st

from alerts.notify.ack_links import InvalidAckToken, verify_ack_token
from config.secrets import ack_links_trusted
from dashboard.auth import (
    User,
    anonymous,
    load_users,
    session_expired,
    user_for_email,
    verify_password,
)
from dashboard.i18n import Lang, role_name, t
from dashboard.inert import md_text
from dashboard.settings import dashboard_settings
from dashboard.signin_guard import THROTTLE

# Static CSS only (never user data): hides Streamlit's chrome in kiosk mode.
KIOSK_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], footer,
[data-testid="stStatusWidget"] {display: none !important;}
.block-container {padding-top: 0.6rem !important; max-width: 100% !important;}
</style>
"""
# Large numbers readable from five metres on the wall screen. Type is sized by the screen's
# height (vh, within clamp bounds), so a 3840×2160 TV shows it twice as large as a 1920×1080 one
# and a 1366×768 one a little smaller: the same layout, read from the same distance.
WALL_CSS = """
<style>
[data-testid="stMetricValue"] {font-size: clamp(2.4rem, 5.6vh, 9rem) !important; line-height: 1.05;}
[data-testid="stMetricLabel"] p {font-size: clamp(1rem, 2.2vh, 3.2rem) !important;}
[data-testid="stMetricDelta"] {font-size: clamp(0.9rem, 1.9vh, 2.6rem) !important;}
[data-testid="stAlert"] p {font-size: clamp(0.9rem, 1.7vh, 2.4rem) !important;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p
{font-size: clamp(0.8rem, 1.5vh, 2.2rem) !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.4rem;}
[data-testid="stAlert"] > div {padding: 0.45rem 0.9rem;}
[data-testid="stMainBlockContainer"] {padding-bottom: 0.5rem !important;}
/* Charts take a share of the screen's height: the wall fits any TV, never scrolls. */
[data-testid="stPlotlyChart"] {height: 27vh !important;}
[data-testid="stFullScreenFrame"]:has(> [data-testid="stPlotlyChart"]),
[data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"])
{height: auto !important; min-height: 0 !important; max-height: none !important; flex: none !important;}
[data-testid="stPlotlyChart"] > div, .js-plotly-plot, .plot-container, .svg-container
{height: 100% !important;}
/* The playlist's full-screen views (?playlist=N): one large panel under a row of numbers. */
.st-key-wall_full_alerts [data-testid="stPlotlyChart"] {height: 76vh !important;}
.st-key-wall_full_regions [data-testid="stPlotlyChart"] {height: 80vh !important;}
/* The wall's HTML panels (dashboard/panels.py) and its trend take the same share, their type
   scales with the screen's height as the numbers above do. */
.radar-panel, [data-testid="stVegaLiteChart"] {height: 27vh !important;}
[data-testid="stVegaLiteChart"] > div {height: 100%;}
[data-testid="stElementContainer"]:has([data-testid="stVegaLiteChart"])
{height: auto !important; min-height: 0 !important; flex: none !important;}
.radar-panel {overflow-y: auto; font-size: clamp(0.9rem, 2vh, 3rem); line-height: 1.25;}
/* The trend's hover text (Vega's tooltip, outside the chart) in the panels' type, not 12 px. */
#vg-tooltip-element {font-size: clamp(0.9rem, 2vh, 3rem) !important; max-width: none !important;}
#vg-tooltip-element td {max-width: none !important;}
.radar-panel h4 {font-size: 1.1em; margin: 0 0 0.3em; padding: 0; font-weight: 600;}
.radar-bars {display: flex; flex-direction: column; overflow: hidden;}
.radar-rows {flex: 1; min-height: 0; display: grid; grid-template-rows: repeat(6, minmax(0, 1fr));
             row-gap: 0.25em;}
.radar-row {display: grid; grid-template-columns: minmax(0, 2fr) 3fr; gap: 0.5em; align-items: center;}
.radar-label {text-align: right; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
.radar-track {display: flex; align-items: center; gap: 0.4em; height: 80%;}
.radar-bar {display: block; height: 100%; border-radius: 2px;}
.radar-value, .radar-empty {white-space: nowrap; color: #e6e9ef;}
.radar-empty {color: #8b93a7; text-align: center; margin-top: 3em;}
.radar-table {width: 100%; border-collapse: collapse; table-layout: fixed;}
.radar-table th, .radar-table td {text-align: left; padding: 0.2em 0.4em; border-bottom: 2px solid #0b0f17;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
/* The alert table: short columns of fixed width (their texts fit: 20小时00分, Ack'd), the title
   takes the rest, on two lines when it needs them, with its related note at its end. */
.radar-table th:nth-child(1) {width: 2.9em;} .radar-table th:nth-child(3) {width: 4em;}
.radar-table th:nth-child(4) {width: 6.2em;} .radar-table th:nth-child(5) {width: 4.4em;}
.radar-table th:nth-child(6) {width: 3em;}
.radar-table:lang(en) th:nth-child(3) {width: 4.2em;} .radar-table:lang(en) th:nth-child(4) {width: 4.4em;}
.radar-table:lang(en) th:nth-child(6) {width: 3.9em;}
.radar-table td:nth-child(2) {white-space: normal; padding-top: 0.1em; padding-bottom: 0.1em;}
.radar-alert {display: flex; align-items: flex-end; gap: 0.3em; line-height: 1.15;}
.radar-title {flex: 1 1 auto; min-width: 0; overflow: hidden; overflow-wrap: anywhere;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2;}
.radar-related {flex: none; white-space: nowrap; font-weight: 600;}
.radar-table td.radar-more {color: #8b93a7;}
.radar-table th {background: #151b26; font-weight: 600; position: sticky; top: 0;}
/* The alert table's row holds five two-line titles: the rankings below give it room. */
.st-key-wall_trend [data-testid="stVegaLiteChart"], .radar-alerts {height: 33vh !important;}
.radar-bars {height: 24vh !important;}
@media (max-height: 900px) {
  [data-testid="stPlotlyChart"], .radar-panel, [data-testid="stVegaLiteChart"] {height: 25vh !important;}
  .st-key-wall_trend [data-testid="stVegaLiteChart"], .radar-alerts {height: 31vh !important;}
  .radar-bars {height: 22vh !important;}
}
/* A phone scrolls: the table takes its height, the title its lines, age and owner give way. */
@media (max-width: 640px) {
  .radar-alerts {height: auto !important;}
  .radar-table th:nth-child(4), .radar-table td:nth-child(4),
  .radar-table th:nth-child(5), .radar-table td:nth-child(5) {display: none;}
  .radar-alert {display: block;} .radar-title {display: inline; -webkit-line-clamp: none;}
  .radar-related {margin-left: 0.3em;}
}
</style>
"""


def lang() -> Lang:
    value = st.session_state.get("lang") or st.query_params.get("lang", "zh")
    return "en" if value == "en" else "zh"


def is_kiosk() -> bool:
    return str(st.query_params.get("kiosk", "")).lower() in ("1", "true", "yes", "on")


def static_css(css: str) -> None:
    """Inject one of the constant style blocks above."""
    st.html(css)


def language_switch() -> None:
    choice = st.sidebar.radio(
        t("language", lang()),
        ["中文", "English"],
        index=0 if lang() == "zh" else 1,
        key="lang_pick",
    )
    value = "zh" if choice == "中文" else "en"
    st.session_state["lang"] = value
    # in the address too, so a reload or a shared link keeps the language (Chinese is the default)
    if value == "en":
        st.query_params["lang"] = "en"
    elif "lang" in st.query_params:
        del st.query_params["lang"]


def current_user() -> User | None:
    """Who is using the dashboard, or None when sign-in is required and has not happened."""
    mode = dashboard_settings().auth
    if mode == "off":
        return anonymous(str(st.session_state.get("operator", "")).strip())
    if mode == "oidc":
        if not st.user.is_logged_in:
            return None
        users = load_users(dashboard_settings().users_file)
        return user_for_email(users, str(st.user.get("email", "")))
    user = st.session_state.get("user")
    if not isinstance(user, User):
        return None
    started = st.session_state.get("signed_in_at")
    if session_expired(started, datetime.now(UTC), dashboard_settings().session_minutes):
        st.session_state.pop("user", None)
        st.session_state.pop("signed_in_at", None)
        return None
    return user


def require_session() -> None:
    """Fragments rerun on their own, without the app script that checks the sign-in: each
    fragment calls this first, so an expired session stops showing data at once."""
    if dashboard_settings().auth != "off" and current_user() is None:
        st.rerun(scope="app")  # the app script then shows the sign-in page


def ack_link_receiver(now: datetime) -> str | None:
    """The person an acknowledge link (``?ack=``, kept across sign-in) was sent to, if it is
    valid and trusted: the link names who is acting."""
    token = st.session_state.get("pending_ack") or st.query_params.get("ack")
    if not token or not ack_links_trusted():
        return None
    try:
        return verify_ack_token(str(token), now).receiver
    except InvalidAckToken:
        return None


def operator_box() -> None:
    """With sign-in off, the operator types a name so the audit trail says who acted. Opened
    from an acknowledge link, the box holds the person the link was sent to: they are not
    asked again, and can still correct it here."""
    if dashboard_settings().auth == "off":
        if not str(st.session_state.get("operator", "")).strip():
            named = ack_link_receiver(datetime.now(UTC))
            if named:
                st.session_state["operator"] = named
        st.sidebar.text_input(
            t("operator", lang()), key="operator", placeholder=t("operator_placeholder", lang())
        )


def login_page() -> None:
    """Password or OIDC sign-in; the page any URL shows until someone has signed in."""
    st.title(t("app_title", lang()))
    if dashboard_settings().auth == "oidc":
        if st.user.is_logged_in:
            st.error("您的账号未配置角色 / your account has no role")
            st.button(t("sign_out", lang()), on_click=st.logout)
        else:
            st.button(t("sign_in", lang()), on_click=st.login)
        return
    with st.form("login"):
        username = st.text_input(t("username", lang()))
        password = st.text_input(t("password", lang()), type="password")
        submitted = st.form_submit_button(t("sign_in", lang()))
    if submitted:
        address = st.context.ip_address
        address = address if isinstance(address, str) and address else "unknown"
        wait = THROTTLE.wait_seconds(username, address)
        if wait > 0:  # not even checked: bcrypt must not become a guessing oracle
            THROTTLE.refused(username, address, wait)
            st.error(t("too_many_logins", lang()).format(minutes=max(1, round(wait / 60))))
            return
        user = verify_password(load_users(dashboard_settings().users_file), username, password)
        if user is None:
            THROTTLE.failed(username, address)
            st.error(t("bad_login", lang()))
        else:
            THROTTLE.succeeded(username)
            st.session_state["user"] = user
            st.session_state["signed_in_at"] = datetime.now(UTC)
            st.rerun()


def user_box(user: User) -> None:
    mode = dashboard_settings().auth
    if mode == "off":
        return
    st.sidebar.caption(f"{md_text(user.name)} · {role_name(user.role, lang())}")
    if mode == "password" and st.sidebar.button(t("sign_out", lang())):
        st.session_state.pop("user", None)
        st.rerun()
    elif mode == "oidc":
        st.sidebar.button(t("sign_out", lang()), on_click=st.logout)


def show_failure(what: str, exc: BaseException) -> str:
    """Log ``exc`` with its traceback under a short error id; show the id, never the traceback.

    A traceback shows server paths, SQL and values to whoever is looking at the page; the id
    lets an operator find the full record in the dashboard's log.
    """
    error_id = uuid.uuid4().hex[:8]
    logging.getLogger("radar.dashboard").error(
        "%s failed (error id %s)", what, error_id, exc_info=exc
    )
    st.error(f"{t('failed_with_id', lang())}：{error_id}")
    return error_id
