"""为何激增: the alert's distinctive words, over-represented labels, a suggested category and
its earliest complaints (``alerts/detect/why.py``), under its summary on the incident page."""

from __future__ import annotations

from datetime import tzinfo

import pandas as pd
import streamlit as st

from alerts.detect.why import LABEL_NAMES, summary_line
from dashboard import cache
from dashboard.auth import User
from dashboard.i18n import Lang, channel_name, t
from dashboard.timeutil import fmt_local
from dashboard.ui import show_failure
from domain.vocabulary import CHANNELS

LABELS_EN = {"category": "Category", "region": "Region", "channel": "Channel", "branch": "Branch"}


def render_why(alert_id: int, user: User | None, language: Lang, tz: tzinfo) -> None:
    """The panel; a failure here is logged and said in a line, the incident page goes on."""
    try:
        _render(alert_id, user, language, tz)
    except Exception as exc:
        show_failure("why panel", exc)


def _render(alert_id: int, user: User | None, language: Lang, tz: tzinfo) -> None:
    result = cache.why(alert_id)
    if result is None:
        return
    why, earliest = result
    st.markdown(f"**{t('why_title', language)}**")
    line = summary_line(why, CHANNELS)
    if not line:
        st.caption(t("why_nothing", language).format(n=why.complaints, base=why.baseline))
        return
    st.caption(t("why_caption", language).format(n=why.complaints, base=why.baseline))
    st.text(line)  # outside words: plain text
    left, right = st.columns(2)
    if why.terms:
        left.dataframe(
            pd.DataFrame(
                {
                    t("why_word", language): [term.text for term in why.terms],
                    t("why_now", language): [term.count for term in why.terms],
                    t("why_usual", language): [term.baseline for term in why.terms],
                }
            ),
            hide_index=True,
            key="why_terms",
        )
    if why.over:
        names = LABEL_NAMES if language == "zh" else LABELS_EN
        right.dataframe(
            pd.DataFrame(
                {
                    t("why_label", language): [
                        names.get(s.dimension, s.dimension) for s in why.over
                    ],
                    t("why_value", language): [
                        channel_name(s.value, language) if s.dimension == "channel" else s.value
                        for s in why.over
                    ],
                    t("why_share", language): [f"{s.share:.0%}" for s in why.over],
                    t("why_expected_share", language): [f"{s.expected:.0%}" for s in why.over],
                }
            ),
            hide_index=True,
            key="why_labels",
        )
    if why.guess is not None:
        st.caption(
            t("why_guess", language).format(
                category=why.guess.category,
                confidence=f"{why.guess.confidence:.0%}",
                words="、".join(why.guess.words),
            )
        )
    if earliest and user is not None and user.can_read_texts:
        st.dataframe(
            pd.DataFrame(
                {
                    t("received_at", language): [fmt_local(r["received_at"], tz) for r in earliest],
                    t("text", language): [r["text"] for r in earliest],
                }
            ),
            hide_index=True,
            key="why_earliest",
        )
