"""The alert console shows the alert its link names, whatever its state; never a traceback;
the audit trail in words with people's names; nobody acts without saying who they are."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from alerts.notify.ack_links import sign_ack_token
from alerts.notify.registry import build_channel
from alerts.state import actions
from dashboard.alert_timeline import sentence, timeline
from storage.db import make_session_factory, session_scope
from storage.models import Alert, AlertEvent
from tests.dashboard.test_pages import app_env, page_script, seeded  # noqa: F401  (fixtures)
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_dispatch import DEAD_HOOK_FALLING_BACK_TO_LOG, Recorder, tick
from tests.notify.test_email import free_port


def _ids(engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(Alert.id).order_by(Alert.id)))


def _resolve(engine, alert_id: int, who: str = "王值班") -> None:
    with session_scope(make_session_factory(engine)) as session:
        actions.resolve(session, alert_id, who, datetime.now(UTC))


def _console(operator: str = "王值班", **params: str) -> AppTest:
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.session_state["operator"] = operator
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _shown(at: AppTest) -> str:
    return at.subheader[0].value


def test_adding_resolved_to_the_status_filter_shows_every_alert(seeded):  # noqa: F811
    first, second = _ids(seeded)
    _resolve(seeded, first)
    at = _console()
    at.multiselect(key="f_states").set_value(["firing", "acknowledged", "resolved"]).run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "状态" in d.value.columns)
    assert set(table["ID"]) == {first, second}
    assert set(table["状态"]) == {"已解除", "告警中"}


def test_a_link_shows_the_alert_it_names_even_after_it_was_resolved(seeded):  # noqa: F811
    first, second = _ids(seeded)
    _resolve(seeded, first)
    at = _console(alert=str(first))
    assert not at.exception
    assert _shown(at).startswith(f"#{first} ")
    assert any(f"#{first} 已于" in s.value and "王值班" in s.value for s in at.success)
    assert not [b for b in at.button if b.key == "act_ack"]  # no 确认 of another alert
    at.button(key="next_open").click().run()
    assert _shown(at).startswith(f"#{second} ")
    assert at.query_params["alert"] == str(second)


def test_resolving_stays_on_the_alert_and_says_so(seeded):  # noqa: F811
    first, _second = _ids(seeded)
    at = _console(alert=str(first))
    at.button(key="act_resolve").click().run()
    assert _shown(at).startswith(f"#{first} ")
    assert any("已于" in s.value for s in at.success)


def test_an_unknown_alert_is_said_to_be_missing(seeded):  # noqa: F811
    at = _console(alert="999999")
    assert not at.exception
    assert any("告警 #999999 不存在" in e.value for e in at.error)


def test_nobody_acts_without_a_name(seeded):  # noqa: F811
    at = _console(operator="")
    assert not at.exception
    assert any("操作人" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key in ("act_ack", "act_resolve")]


def test_an_ack_by_link_reads_with_the_persons_name(seeded, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RADAR_ACK_SECRET", "k3Q9vX2mL8pR4tW7zY1b")
    first, _second = _ids(seeded)
    at = _console(operator="", ack=sign_ack_token(first, "li-na", datetime.now(UTC)))
    assert _shown(at).startswith(f"#{first} ")
    story = next(d.value for d in at.dataframe if "经过" in d.value.columns)
    assert "李娜 确认了告警" in list(story["经过"])
    assert any(m.value == "李娜" for m in at.metric)


def test_timeline_sentences_in_both_languages():
    events = pd.DataFrame(
        [
            (datetime(2026, 12, 1, 14, 4, tzinfo=UTC), "created", "system", "产品激增"),
            (datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "acknowledged", "li-na", ""),
            (datetime(2026, 12, 1, 14, 6, tzinfo=UTC), "note", "王值班", "已通知理赔部"),
            (datetime(2026, 12, 1, 14, 7, tzinfo=UTC), "fired", "system", ""),
            (datetime(2026, 12, 1, 14, 8, tzinfo=UTC), "updated", "system", "count 20 → 51"),
        ],
        columns=["at", "kind", "actor", "message"],
    )
    zh = timeline(events, {"li-na": "李娜"}, "zh", ZoneInfo("Asia/Shanghai"))
    assert list(zh.columns) == ["时间", "经过"]
    assert list(zh["经过"]) == [
        "系统 创建告警（产品激增）",
        "李娜 确认了告警",
        "王值班 备注：已通知理赔部",
        "系统 告警触发",
        "系统 计数更新（20 → 51 件）",
    ]
    assert zh["时间"][1] == "12-01 22:05:00"  # Shanghai time
    en = timeline(events, {"li-na": "李娜"}, "en", ZoneInfo("Asia/Shanghai"))
    assert list(en["What happened"])[1:] == [
        "李娜 acknowledged the alert",
        "王值班 noted: 已通知理赔部",
        "The system raised the alert",
        "The system updated the count (20 → 51 complaints)",
    ]
    # the title it opened with is the rule's Chinese one: the English page heads it in English
    assert en["What happened"].iloc[0] == "The system opened the alert"
    assert sentence("future_kind", "系统", "x", "zh") == "future_kind：x"
    # the system's own Chinese messages read in English on English pages, kept on Chinese ones
    inhibited = "包含于事件级告警 #14，通知由其统一发出"
    assert sentence("inhibited", "system", inhibited, "en") == (
        "The system inhibited the alert (inside event alert #14, which pages)"
    )
    assert sentence("inhibited", "系统", inhibited, "zh") == f"系统 被抑制：{inhibited}"
    assert sentence(
        "notify_suppressed", "system", "并入告警 #3（同一情况），由其统一通知", "en"
    ) == ("The system held the pages back (part of alert #3's situation, which pages)")
    assert sentence("reopened", "system", "第 2 次触发", "en").endswith(
        "reopened the alert: the condition still held (firing no. 2)"
    )
    assert sentence("note", "王值班", "第 2 次触发", "en") == "王值班 noted: 第 2 次触发"


def test_a_baseline_reads_to_one_decimal(seeded):  # noqa: F811
    with session_scope(make_session_factory(seeded)) as session:
        lead = session.scalars(select(Alert).order_by(Alert.id)).first()
        assert lead is not None
        surge = Alert(
            fingerprint="surge-fp", rule="product-surge", rule_kind="surge", key=lead.key,
            title="产品激增", severity=3, state="firing", started_at=lead.started_at,
            fired_at=lead.started_at, last_seen_at=lead.started_at, count=124,
            expected=26.007, evidence={},
        )  # fmt: skip
        session.add(surge)
        session.flush()
        surge_id = surge.id
    at = _console(alert=str(surge_id))
    assert {m.label: m.value for m in at.metric}["基线/阈值"] == "26.0"


def test_an_ack_link_acts_as_the_person_it_names_without_asking_again(seeded, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RADAR_ACK_SECRET", "k3Q9vX2mL8pR4tW7zY1b")
    first, _second = _ids(seeded)
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=60)  # sidebar and all
    at.query_params["ack"] = sign_ack_token(first, "li-na", datetime.now(UTC))
    at.run()
    assert not at.exception and not at.error
    assert any("已通过链接确认告警" in s.value for s in at.success)
    assert not [w for w in at.warning if "操作人" in w.value]  # the link said who: not asked
    assert at.text_input(key="operator").value == "li-na"  # shown, and can be corrected
    at.button(key="act_resolve").click().run()
    with Session(seeded) as session:
        trail = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == first).order_by(AlertEvent.id)
        ).all()
    acted = {e.kind: e.actor for e in trail if e.kind in ("acknowledged", "resolved")}
    assert acted == {"acknowledged": "li-na", "resolved": "li-na"}


def test_the_english_trail_says_the_systems_own_words_in_english(factory, clock, monkeypatch):
    """Escalations, pages, failed attempts, a fallback and a situation's acknowledgement as the
    system writes them: in English on English pages but for people's names and outside text
    (a channel's error); kept as written on Chinese pages."""
    monkeypatch.setenv("T_DEAD_URL", f"http://127.0.0.1:{free_port()}/hook")  # refused
    config = make_config(
        channels=DEAD_HOOK_FALLING_BACK_TO_LOG,
        routes={"group_wait_seconds": 0, "repeat_minutes": 0},
    )
    channels = {"hook": build_channel(config.channels.channels[0]), "log": Recorder()}
    with session_scope(factory) as session:
        lead = add_alert(session, clock.now, severity=1, fingerprint="lead")
        member = add_alert(session, clock.now, fingerprint="member", parent_alert_id=lead.id)
        lead_id, member_id = lead.id, member.id
    tick(factory, config, channels, clock)
    clock.advance(minutes=1)
    tick(factory, config, channels, clock)  # the hook fails again: over to the log channel
    tick(factory, config, channels, clock)
    clock.advance(minutes=5)
    tick(factory, config, channels, clock)  # escalated to the duty manager
    with session_scope(factory) as session:
        actions.acknowledge(session, lead_id, "oncall-a", clock.now, via="短信回复 4821")
    names = {p.id: p.name for p in config.roster.people}

    def trail(alert_id: int, lang) -> list[str]:
        with factory() as session:
            rows = session.scalars(
                select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
            ).all()
        frame = pd.DataFrame(
            [(e.at, e.kind, e.actor, e.message) for e in rows],
            columns=["at", "kind", "actor", "message"],
        )
        return list(timeline(frame, names, lang, ZoneInfo("Asia/Shanghai")).iloc[:, 1])

    en = trail(lead_id, "en")
    assert (
        "The system escalated the alert (unacknowledged for 5 min, to the duty manager 经理乙)"
        in en
    )
    assert "The system sent a notification (log → 值班甲, attempt 1)" in en
    assert "The system gave up on a failing channel (hook failed 2 times, switched to log)" in en
    assert any(
        s.startswith("The system could not send a notification (hook, attempt 1: ") for s in en
    )
    assert en[-1] == "值班甲 acknowledged the alert (by SMS reply 4821)"
    assert trail(member_id, "en")[-1] == (
        f"值班甲 acknowledged the alert (with alert #{lead_id}'s situation, by SMS reply 4821)"
    )
    said = " ".join(en)
    for name in names.values():
        said = said.replace(name, "")
    assert not re.search(r"[\u4e00-\u9fff]", said), en  # nothing left in Chinese but names
    zh = trail(lead_id, "zh")
    assert "系统 升级通知：5 分钟未确认，升级至值班经理：经理乙" in zh
    assert "系统 已通知：log → 值班甲：已发送（第 1 次尝试）" in zh
    assert zh[-1] == "值班甲 确认了告警（短信回复 4821）"


@pytest.mark.parametrize(
    ("kind", "message", "english"),
    [
        ("notify_cancelled", "告警已确认（li-na），取消待发通知：15 分钟未确认，升级至值班经理（wecom → zhao-min）",
         "cancelled a notification (the alert was acknowledged by li-na: wecom → zhao-min, "
         "unacknowledged for 15 min, to the duty manager)"),
        ("escalation_gap", "无人可通知：仍未确认，第 2 次提醒",
         "found nobody to page (reminder 2, still unacknowledged)"),
        ("notify_unknown", "sms 发送中断，结果未知，未重发以免重复",
         "does not know if a notification arrived (sms: sending was interrupted; not resent, "
         "to avoid a duplicate)"),
        ("severity_raised", "3 → 2（关联告警 #7）", "raised the severity (3 → 2, alert #7 joined)"),
        ("acknowledged", "告警 #5 所在情况已确认",
         "acknowledged the alert (alert #5's situation was already acknowledged)"),
        ("resolved", "客户已回访", "resolved the alert (客户已回访)"),  # a person's note stays
    ],
)  # fmt: skip
def test_the_systems_words_in_english_and_as_written_in_chinese(kind, message, english):
    assert sentence(kind, "system", message, "en") == f"The system {english}"
    assert message in sentence(kind, "系统", message, "zh")
