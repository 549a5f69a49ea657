"""Acknowledge by SMS reply code, end to end: a Tencent SMS page through the outbox to the strict
stand-in, the phone texts the code back, the worker pulls replies (PullSmsReplyStatus) and the
alert is acknowledged for the person whose number replied, on a real database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from alerts.notify.reply_codes import code_in, mobile, pull_and_acknowledge
from alerts.state.actions import resolve
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert, AlertEvent, SmsReplyCode
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_tencent import SECRET_ID, SECRET_KEY, channel_config, tencent_server
from worker.context import WorkerContext
from worker.main import build_scheduler, notify_job, sms_replies_job


def setup(httpserver, monkeypatch, clock, replies, sent, secret=SECRET_KEY):
    tencent_server(httpserver, sent, replies=replies, now=lambda: clock.now.timestamp())
    monkeypatch.setenv("T_TC_ID", SECRET_ID)
    monkeypatch.setenv("T_TC_KEY", secret)
    channels = [channel_config(httpserver, ack_template_id="2220", fallback="log"),
                {"name": "log", "kind": "log"}]  # fmt: skip
    return make_config(channels=channels,
                       routes={"group_wait_seconds": 0, "escalation_minutes": {}})  # fmt: skip


def page(factory, config, clock) -> dict:
    """Plan and deliver once, with channels built afresh (as after a worker restart)."""
    built = {c.name: build_channel(c) for c in config.channels.channels}
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, built, config, clock.now)
    return built


def text_back(replies: list[dict], phone: str, content: str, at: datetime) -> None:
    replies.append({"PhoneNumber": f"+86{phone}", "ReplyContent": content, "NationCode": "86",
                    "ReplyUnixTime": int(at.timestamp()), "Sign": "投诉雷达"})  # fmt: skip


def acks(factory, alert_id: int) -> list[AlertEvent]:
    with factory() as session:
        query = select(AlertEvent).where(
            AlertEvent.alert_id == alert_id, AlertEvent.kind == "acknowledged"
        )
        return list(session.scalars(query))


def test_the_code_texted_back_acknowledges_for_that_person_once(
    factory, clock, monkeypatch, httpserver
):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    built = page(factory, config, clock)
    [params] = sent
    assert params["TemplateId"] == "2220"
    level, _what, count, code = params["TemplateParamSet"]
    assert (level, count) == ("Ⅰ级", "1") and code_in(f"回复 {code} 确认") == code
    clock.advance(minutes=2)
    text_back(replies, "13900000001", f" {code} ", clock.now)
    assert pull_and_acknowledge(factory, built, clock.now) == [alert_id]
    with factory() as session:
        alert = session.get(Alert, alert_id)
        assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == "oncall-a"
    [event] = acks(factory, alert_id)
    assert event.actor == "oncall-a" and event.message == f"短信回复 {code}"
    # The same text delivered again, after a restart (fresh channels), acknowledges nothing.
    text_back(replies, "13900000001", code, clock.now)
    assert pull_and_acknowledge(factory, page(factory, config, clock), clock.now) == []
    assert len(acks(factory, alert_id)) == 1 and replies == []


def test_a_code_counts_only_from_the_number_it_was_sent_to(factory, clock, monkeypatch, httpserver):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    built = page(factory, config, clock)
    code = sent[0]["TemplateParamSet"][3]
    text_back(replies, "13900000002", code, clock.now)  # the manager's phone: not paged
    text_back(replies, "13900000001", "收到", clock.now)  # no code
    text_back(replies, "13900000001", f"{(int(code) + 1) % 10000:04d}", clock.now)  # wrong
    assert pull_and_acknowledge(factory, built, clock.now) == []
    with factory() as session:
        assert session.get(Alert, alert_id).state == AlertState.FIRING


def test_a_code_expires_when_its_alert_resolves(factory, clock, monkeypatch, httpserver):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    built = page(factory, config, clock)
    code = sent[0]["TemplateParamSet"][3]
    with session_scope(factory) as session:
        resolve(session, alert_id, "system", clock.advance(minutes=5))
    text_back(replies, "13900000001", code, clock.now)
    assert pull_and_acknowledge(factory, built, clock.now) == []
    with factory() as session:
        assert session.get(Alert, alert_id).state == AlertState.RESOLVED
    assert acks(factory, alert_id) == []


def test_a_code_whose_page_never_left_acknowledges_nothing(factory, clock, monkeypatch, httpserver):
    """A wrong secret: the SMS is refused (and falls back to the log); its code was stored
    with the claim but nobody can have received it."""
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent, secret="wrong")
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    built = page(factory, config, clock)
    assert sent == []
    with factory() as session:
        [stored] = session.scalars(select(SmsReplyCode)).all()
    monkeypatch.setenv("T_TC_KEY", SECRET_KEY)  # fixed, so pulling works
    text_back(replies, "13900000001", stored.code, clock.now)
    assert pull_and_acknowledge(factory, built, clock.now) == []
    with factory() as session:
        assert session.get(Alert, alert_id).state == AlertState.FIRING


def test_a_live_code_is_not_handed_out_twice_to_one_number(factory, clock, monkeypatch, httpserver):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    with factory() as session:
        first = add_alert(session, clock.now, severity=1, title="甲").id
    built = page(factory, config, clock)
    clock.advance(minutes=1)  # past the per-number limit
    with factory() as session:
        second = add_alert(session, clock.now, severity=1, title="乙", key={"p": "2"}).id
    page(factory, config, clock)
    codes = [p["TemplateParamSet"][3] for p in sent]
    assert len(codes) == 2 and codes[0] != codes[1]
    text_back(replies, "13900000001", codes[1], clock.now)
    assert pull_and_acknowledge(factory, built, clock.now) == [second]
    with factory() as session:
        assert session.get(Alert, first).state == AlertState.FIRING


def test_numbers_and_codes_are_read_the_way_phones_write_them():
    assert mobile("+8613900000001") == mobile("0086 139-0000-0001") == "13900000001"
    assert code_in("1234") == "1234" and code_in("确认 1234。") == "1234"
    assert code_in("12345") == code_in("12 34") == code_in("") == ""


def test_one_code_answers_a_grouped_page_and_recoveries_carry_none(
    factory, clock, monkeypatch, httpserver
):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    with factory() as session:
        ids = [add_alert(session, clock.now, severity=1, title=t, key={"p": t}).id for t in "甲乙"]
    built = page(factory, config, clock)
    [params] = sent
    assert params["TemplateParamSet"][2] == "2"
    text_back(replies, "13900000001", params["TemplateParamSet"][3], clock.now)
    assert sorted(pull_and_acknowledge(factory, built, clock.now)) == ids
    with session_scope(factory) as session:
        resolve(session, ids[0], "system", clock.advance(minutes=1))
    page(factory, config, clock)  # the 已恢复 notice: nothing to acknowledge, no code
    assert [(p["TemplateId"], len(p["TemplateParamSet"])) for p in sent[1:]] == [("1110", 3)]


def test_the_worker_pages_and_acknowledges_by_reply_on_its_own_jobs(
    engine, clock, monkeypatch, httpserver
):
    replies: list[dict] = []
    sent: list[dict] = []
    config = setup(httpserver, monkeypatch, clock, replies, sent)
    ctx = WorkerContext(config=config, engine=engine, clock=clock)
    assert "sms-replies" in {job.id for job in build_scheduler(ctx).get_jobs()}
    with ctx.factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    notify_job(ctx)
    text_back(replies, "13900000001", sent[0]["TemplateParamSet"][3], clock.now)
    sms_replies_job(ctx)
    with ctx.factory() as session:
        assert session.get_one(Alert, alert_id).acknowledged_by == "oncall-a"
