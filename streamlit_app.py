"""Complaint Radar dashboard entry: page navigation only; the pages live in dashboard/pages/."""

from pathlib import Path

import streamlit as st

from config.logsafe import install as install_logging
from config.settings import get_settings
from dashboard.i18n import t
from dashboard.pages import alerts, ledger, monthly, settings_view, sources, wall, weekly
from dashboard.ui import (
    KIOSK_CSS,
    current_user,
    is_kiosk,
    lang,
    language_switch,
    login_page,
    operator_box,
    static_css,
    user_box,
)

# One line per record in the dashboard's log too (sign-in failures name what was typed).
install_logging(get_settings().log_level, "%(asctime)s %(levelname)s %(name)s: %(message)s")
# A local file: a material-icon favicon is fetched from a font host and fails offline.
FAVICON = Path(__file__).parent / "dashboard" / "assets" / "favicon.png"
st.set_page_config(page_title="投诉雷达 Complaint Radar", page_icon=str(FAVICON), layout="wide")
if "ack" in st.query_params:  # keep a one-click acknowledge token across sign-in
    st.session_state["pending_ack"] = st.query_params["ack"]

PAGES = {
    "wall": (wall.render, "page_wall", "wall", ":material/tv:"),
    "alerts": (alerts.render, "page_alerts", "alerts", ":material/notifications_active:"),
    "weekly": (weekly.render, "page_weekly", "weekly", ":material/trending_up:"),
    "monthly": (monthly.render, "page_monthly", "monthly", ":material/account_balance:"),
    "ledger": (ledger.render, "page_ledger", "ledger", ":material/menu_book:"),
    "sources": (sources.render, "page_sources", "sources", ":material/satellite_alt:"),
    "settings": (settings_view.render, "page_settings", "settings", ":material/settings:"),
}

kiosk = is_kiosk()
if kiosk:
    static_css(KIOSK_CSS)
else:
    language_switch()
user = current_user()
if user is None:
    page = st.navigation([st.Page(login_page, title=t("sign_in", lang()), url_path="login")])
else:
    if not kiosk:
        operator_box()
        user_box(user)
    pages = [
        st.Page(fn, title=t(title, lang()), url_path=path, icon=icon, default=(key == "wall"))
        for key, (fn, title, path, icon) in PAGES.items()
        if key in user.pages
    ]
    page = st.navigation(pages, position="hidden" if kiosk else "sidebar")
    if st.session_state.get("pending_ack") and page.url_path != "alerts" and "alerts" in user.pages:
        st.switch_page(next(p for p in pages if p.url_path == "alerts"))
page.run()
