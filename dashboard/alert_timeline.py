"""An alert's audit trail in words ("22:04 李娜 确认了告警"), not raw event columns.

Pure: the console passes the events, the roster's display names and the language. Messages
and actor names are outside text: they are returned as plain strings for ``st.text`` or a
dataframe, never as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any, cast

import pandas as pd

from dashboard.i18n import Lang
from dashboard.timeutil import fmt_local
from domain.states import EventKind

# kind → (Chinese, English) verb phrase; {m} is the event's message when it says more.
PHRASES: dict[str, tuple[str, str]] = {  # every EventKind (tests/alerts/test_transition.py)
    EventKind.CREATED: ("创建告警", "opened the alert"),  # after the actor: "系统 创建告警"
    EventKind.FIRED: ("告警触发（{m}）", "the alert fired ({m})"),
    EventKind.UPDATED: ("计数更新（{m}）", "the count changed ({m})"),
    EventKind.RESOLVED: ("告警解除", "the alert was resolved"),
    EventKind.REOPENED: (
        "条件仍成立，告警重新打开（{m}）",
        "the condition still held: reopened ({m})",
    ),
    EventKind.ACKNOWLEDGED: ("确认了告警", "acknowledged the alert"),
    EventKind.NOTE: ("备注：{m}", "noted: {m}"),
    EventKind.SILENCED: ("静默（{m}）", "silenced it ({m})"),
    EventKind.NOTIFIED: ("已通知：{m}", "notified: {m}"),
    EventKind.NOTIFY_FAILED: ("通知失败：{m}", "a notification failed: {m}"),
    EventKind.NOTIFY_UNKNOWN: ("通知结果未知：{m}", "a notification's outcome is unknown: {m}"),
    EventKind.NOTIFY_FALLBACK: ("改用备用渠道：{m}", "fell back to another channel: {m}"),
    EventKind.NOTIFY_CANCELLED: ("取消通知：{m}", "a notification was cancelled: {m}"),
    EventKind.NOTIFY_SUPPRESSED: ("未通知：{m}", "not notified: {m}"),
    EventKind.ESCALATED: ("升级通知：{m}", "escalated: {m}"),
    EventKind.ESCALATE_NOW: ("要求立即升级", "asked to escalate now"),
    EventKind.ESCALATION_GAP: ("无法升级：{m}", "could not escalate: {m}"),
    EventKind.INHIBITED: ("被抑制：{m}", "inhibited: {m}"),
    EventKind.LINKED: ("并入同一情况：{m}", "joined a situation: {m}"),
    EventKind.SEVERITY_RAISED: ("级别提高：{m}", "severity raised: {m}"),
    EventKind.REASSIGNED: ("将告警转交给 {m}", "reassigned the alert to {m}"),
    EventKind.RESPONDER_ADDED: ("请 {m} 协助处理", "asked {m} to help (added a responder)"),
}
# kinds whose message is a roster id, shown as the person's name
PERSON_KINDS = {EventKind.REASSIGNED.value, EventKind.RESPONDER_ADDED.value}
SYSTEM = {"", "system"}
_MESSAGE_SLOT = re.compile(r"\s*[（(：:]?\s*\{m\}[）)]?")
# the lifecycle's count messages ("count 51", "count 20 → 51"), said in the page's language
_COUNT = re.compile(r"^count (\d+(?: → \d+)?)$")
# what the system writes in Chinese (the audit trail keeps it so), said in English there
_SYSTEM_WORDS = {
    EventKind.REOPENED.value, EventKind.INHIBITED.value, EventKind.NOTIFY_SUPPRESSED.value,
    EventKind.LINKED.value,
    EventKind.SILENCED.value,  # its situation's words only: the reason after them stays
}  # fmt: skip
_ENGLISH = [
    (re.compile(r"^第 (\d+) 次触发$"), r"firing no. \1"),
    (
        re.compile(r"^包含于事件级告警 #(\d+)，通知由其统一发出$"),
        r"inside event alert #\1, which pages",
    ),
    (
        re.compile(r"^并入告警 #(\d+)（同一情况），由其统一通知$"),
        r"part of alert #\1's situation, which pages",
    ),
    (
        re.compile(r"^与告警 #(\d+) 属同一情况，由其统一通知$"),
        r"the same situation as alert #\1, which pages",
    ),
    (
        re.compile(r"^由 (.+) 并入告警 #(\d+)，由其统一通知$"),
        r"merged into alert #\2 by \1; it pages",
    ),
    (re.compile(r"^已静默：记录但不通知$"), "silenced: recorded, not paged"),
    (re.compile(r"^(\d+) min（告警 #(\d+) 所在情况）: "), r"\1 min, with alert #\2's situation: "),
]


def actor_name(actor: str | None, names: Mapping[str, str], lang: Lang) -> str:
    """A roster id ("li-na") as the person's name ("李娜"); the system as 系统 / system."""
    actor = (actor or "").strip()
    if actor in SYSTEM:
        return "系统" if lang == "zh" else "system"
    return names.get(actor, actor)


def sentence(kind: str, actor: str, message: str, lang: Lang) -> str:
    pair = PHRASES.get(kind)
    message = (message or "").strip()
    if pair is None:  # a kind added later: still readable
        return f"{kind}：{message}" if message else kind
    phrase = pair[0] if lang == "zh" else pair[1]
    if lang == "en" and kind in _SYSTEM_WORDS:  # people's own notes stay as they wrote them
        for pattern, english in _ENGLISH:
            message = pattern.sub(english, message)
    counted = _COUNT.match(message)
    if counted:
        message = f"{counted.group(1)} 件" if lang == "zh" else f"{counted.group(1)} complaints"
    if "{m}" not in phrase:
        aside = (f"（{message}）" if lang == "zh" else f" ({message})") if message else ""
        text = phrase + aside
    elif message:
        text = phrase.replace("{m}", message)
    else:
        text = _MESSAGE_SLOT.sub("", phrase).strip()
    return f"{actor} {text}"


def timeline(
    events: pd.DataFrame, names: Mapping[str, str], lang: Lang, tz: tzinfo
) -> pd.DataFrame:
    """Two columns, time and what happened, oldest first (``events`` from alert_detail)."""
    when = "时间" if lang == "zh" else "Time"
    what = "经过" if lang == "zh" else "What happened"
    rows = [
        (
            fmt_local(e.at, tz, "%m-%d %H:%M:%S"),
            sentence(
                e.kind,
                actor_name(e.actor, names, lang),
                names.get(e.message, e.message) if e.kind in PERSON_KINDS else e.message,
                lang,
            ),
        )
        for e in cast("Iterable[Any]", events.itertuples(index=False))
    ]
    return pd.DataFrame(rows, columns=[when, what])
