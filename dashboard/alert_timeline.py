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

from config.roster import ROLE_LABELS
from dashboard.i18n import Lang
from dashboard.timeutil import fmt_local
from domain.states import EventKind

# kind → (Chinese, English) verb phrase; {m} is the event's message when it says more. The
# English reads "<who> <did what>": "Wang resolved the alert", "The system raised the alert".
PHRASES: dict[str, tuple[str, str]] = {  # every EventKind (tests/alerts/test_transition.py)
    EventKind.CREATED: ("创建告警", "opened the alert"),  # after the actor: "系统 创建告警"
    EventKind.FIRED: ("告警触发（{m}）", "raised the alert ({m})"),
    EventKind.UPDATED: ("计数更新（{m}）", "updated the count ({m})"),
    EventKind.RESOLVED: ("告警解除", "resolved the alert"),
    EventKind.REOPENED: (
        "条件仍成立，告警重新打开（{m}）",
        "reopened the alert: the condition still held ({m})",
    ),
    EventKind.ACKNOWLEDGED: ("确认了告警", "acknowledged the alert"),
    EventKind.NOTE: ("备注：{m}", "noted: {m}"),
    EventKind.SILENCED: ("静默（{m}）", "silenced it ({m})"),
    EventKind.NOTIFIED: ("已通知：{m}", "sent a notification ({m})"),
    EventKind.NOTIFY_FAILED: ("通知失败：{m}", "could not send a notification ({m})"),
    EventKind.NOTIFY_UNKNOWN: (
        "通知结果未知：{m}",
        "does not know if a notification arrived ({m})",
    ),
    EventKind.NOTIFY_FALLBACK: ("改用备用渠道：{m}", "gave up on a failing channel ({m})"),
    EventKind.NOTIFY_CANCELLED: ("取消通知：{m}", "cancelled a notification ({m})"),
    EventKind.NOTIFY_SUPPRESSED: ("未通知：{m}", "held the pages back ({m})"),
    EventKind.ESCALATED: ("升级通知：{m}", "escalated the alert ({m})"),
    EventKind.ESCALATE_NOW: ("要求立即升级", "asked to escalate now"),
    EventKind.ESCALATION_GAP: ("无法升级：{m}", "found nobody to page ({m})"),
    EventKind.INHIBITED: ("被抑制：{m}", "inhibited the alert ({m})"),
    EventKind.LINKED: ("并入同一情况：{m}", "linked the alert to a situation ({m})"),
    EventKind.SEVERITY_RAISED: ("级别提高：{m}", "raised the severity ({m})"),
    EventKind.REASSIGNED: ("将告警转交给 {m}", "reassigned the alert to {m}"),
    EventKind.RESPONDER_ADDED: ("请 {m} 协助处理", "asked {m} to help (added a responder)"),
}
# kinds whose message is a roster id, shown as the person's name
PERSON_KINDS = {EventKind.REASSIGNED.value, EventKind.RESPONDER_ADDED.value}
SYSTEM = {"", "system"}
_MESSAGE_SLOT = re.compile(r"\s*[（(：:]?\s*\{m\}[）)]?")
# the lifecycle's count messages ("count 51", "count 20 → 51"), said in the page's language
_COUNT = re.compile(r"^count (\d+(?: → \d+)?)$")
# the created event's message is the rule's Chinese title when it fired: English pages head the
# alert with its title in English (alert_titles), so their timeline does not repeat it
_TITLE_KINDS = {EventKind.CREATED.value}
# what the system writes in Chinese (the audit trail keeps it so), said in English there;
# names, reasons people gave and outside text (a channel's error) stay as written
_SYSTEM_WORDS = {
    EventKind.REOPENED.value, EventKind.INHIBITED.value, EventKind.NOTIFY_SUPPRESSED.value,
    EventKind.LINKED.value, EventKind.SEVERITY_RAISED.value,
    EventKind.SILENCED.value,  # its situation's words only: the reason after them stays
    EventKind.ACKNOWLEDGED.value,  # how (a texted code) or with which situation
    EventKind.NOTIFIED.value, EventKind.NOTIFY_FAILED.value, EventKind.NOTIFY_UNKNOWN.value,
    EventKind.NOTIFY_FALLBACK.value, EventKind.NOTIFY_CANCELLED.value,
    EventKind.ESCALATED.value, EventKind.ESCALATION_GAP.value,
}  # fmt: skip
_ROLES_EN = {
    ROLE_LABELS["oncall"]: "on-call",
    ROLE_LABELS["manager"]: "duty manager",
    ROLE_LABELS["head"]: "head of department",
}
_ROLE = "|".join(_ROLES_EN)
# why a page is sent (alerts.notify.planner._steps, _plan_by_hand, _plan_resolved)
_REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^首次通知$"), "first page"),
    (re.compile(r"^第 (\d+) 次触发$"), r"firing no. \1"),
    (
        re.compile(r"^已确认但未恢复，第 (\d+) 次提醒$"),
        r"reminder \1, acknowledged but not resolved",
    ),
    (re.compile(r"^仍未确认，第 (\d+) 次提醒$"), r"reminder \1, still unacknowledged"),
    (
        re.compile(rf"^(\d+) 分钟未确认，升级至({_ROLE})$"),
        lambda m: f"unacknowledged for {m[1]} min, to the {_ROLES_EN[m[2]]}",
    ),
    (
        re.compile(rf"^值班人员要求立即，升级至({_ROLE})$"),
        lambda m: f"asked for at once, to the {_ROLES_EN[m[1]]}",
    ),
    (re.compile(r"^(.+) 将告警转交给你$"), r"\1 handed the alert over"),
    (re.compile(r"^(.+) 请你协助处理$"), r"\1 asked for help"),
    (re.compile(r"^已恢复$"), "resolved"),
]
_GAP_NOTE = re.compile(r"（值班表此时无人值班，已发给默认接收人）$")
_WHY_CANCELLED = {"告警已恢复": "the alert was resolved", "告警已不存在": "the alert is gone"}


def _reason_en(text: str) -> str:
    gap = _GAP_NOTE.search(text)
    if gap:
        text = text[: gap.start()]
    for pattern, english in _REASONS:
        text = pattern.sub(english, text)
    return text + (" (nobody on call: sent to the default receiver)" if gap else "")


def _escalated(m: re.Match[str]) -> str:
    return f"{_reason_en(m[1])} {m[2]}"


def _cancelled(m: re.Match[str]) -> str:
    why, who, reason, route = m[1], m[2], m[3], m[4]
    if why.startswith("告警已确认"):
        said = f"the alert was acknowledged by {who}" if who else "the alert was acknowledged"
    else:
        said = _WHY_CANCELLED.get(why, why)
    return f"{said}: {route}, {_reason_en(reason)}"


_ENGLISH: list[tuple[re.Pattern[str], Any]] = [
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
    # acknowledged with the situation (alerts.state.actions.acknowledge) or by a texted code
    (
        re.compile(r"^告警 #(\d+) 所在情况已确认$"),
        r"alert #\1's situation was already acknowledged",
    ),
    (
        re.compile(r"^告警 #(\d+) 所在情况，短信回复 (\S+)$"),
        r"with alert #\1's situation, by SMS reply \2",
    ),
    (re.compile(r"^告警 #(\d+) 所在情况$"), r"with alert #\1's situation"),
    (re.compile(r"^短信回复 (\S+)$"), r"by SMS reply \1"),
    (re.compile(r"^(\d+ → \d+)（关联告警 #(\d+)）$"), r"\1, alert #\2 joined"),
    (re.compile(r"^(\d+ → \d+)（并入 #(\d+)）$"), r"\1, alert #\2 merged in"),
    # alerts.notify.delivery, recheck and planner
    (re.compile(r"^(.+?) → (.+)：已发送（第 (\d+) 次尝试）$"), r"\1 → \2, attempt \3"),
    (re.compile(r"^(\S+) 限流，稍后重试："), r"\1 is rate-limited, retrying later: "),
    (re.compile(r"^(\S+) 第 (\d+) 次发送失败："), r"\1, attempt \2: "),
    (
        re.compile(r"^(\S+) 请求已发出但未收到答复，结果未知，未重发以免重复$"),
        r"\1: the request went out and no answer came; not resent, to avoid a duplicate",
    ),
    (
        re.compile(r"^(\S+) 发送中断，结果未知，未重发以免重复$"),
        r"\1: sending was interrupted; not resent, to avoid a duplicate",
    ),
    (re.compile(r"^(\S+) 连续失败 (\d+) 次，改用 (\S+)$"), r"\1 failed \2 times, switched to \3"),
    (
        re.compile(r"^(\S+) 连续失败 (\d+) 次；(\S+) 已另行发送，不再重复$"),
        r"\1 failed \2 times; \3 has its own copy, not sent twice",
    ),
    (
        re.compile(
            r"^(告警已恢复|告警已不存在|告警已确认(?:（(.*?)）)?)，取消待发通知：(.*)（([^（）]+ → [^（）]+)）$"
        ),
        _cancelled,
    ),
    (re.compile(rf"^(.+，升级至(?:{_ROLE}))：(.+)$"), _escalated),
    (re.compile(r"^无人可通知：(.+)$"), lambda m: _reason_en(m[1])),
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
    if lang == "en":
        actor = "The system" if actor == "system" else actor  # it starts the sentence
        if kind in _TITLE_KINDS:
            message = ""
        elif kind in _SYSTEM_WORDS:  # people's own notes stay as they wrote them
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
