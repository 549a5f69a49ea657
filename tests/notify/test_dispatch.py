"""Planning and delivery on both databases: escalation, grouping, reminders, resolved notices,
inhibition, silences, fallback, and no duplicate after a crash mid-send."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.channels import LogNotifier, OutgoingMessage
from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from alerts.state.actions import acknowledge
from config.models import LogChannel
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert, AlertEvent, Notification, Silence
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_email import free_port


class Recorder:
    """A channel that keeps what it was asked to send (a real object, not a mock of one)."""

    supports_idempotency = False

    def __init__(self, name: str = "log") -> None:
        self.name = name
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def tick(factory, config, channels, clock) -> None:
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, channels, config, clock.now, dashboard_url="http://radar.local")


def rows(factory) -> list[Notification]:
    with factory() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def alert_ids(factory) -> list[int]:
    """The alert of each outbox row, in row order; every row here is about an alert."""
    ids = [r.alert_id for r in rows(factory)]
    assert all(i is not None for i in ids), ids
    return [i for i in ids if i is not None]


def events(factory, kind: str) -> list[AlertEvent]:
    with factory() as session:
        return list(session.scalars(select(AlertEvent).where(AlertEvent.kind == kind)))


def test_severity_one_escalates_every_5_minutes_up_the_chain(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "repeat_minutes": 0})
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now, severity=1)
    tick(factory, config, {"log": recorder}, clock)
    clock.advance(minutes=4, seconds=59)
    tick(factory, config, {"log": recorder}, clock)
    assert [m.recipient.id for m in recorder.sent] == ["oncall-a"]
    clock.advance(seconds=1)
    tick(factory, config, {"log": recorder}, clock)
    clock.advance(minutes=5)
    tick(factory, config, {"log": recorder}, clock)
    clock.advance(minutes=30)
    tick(factory, config, {"log": recorder}, clock)
    assert [m.recipient.id for m in recorder.sent] == ["oncall-a", "manager-b", "head-c"]
    assert [r.escalation_level for r in rows(factory)] == [0, 1, 2]
    steps = [e.message for e in events(factory, "escalated")]
    assert steps == [
        "5 分钟未确认，升级至值班经理：经理乙",
        "10 分钟未确认，升级至部门负责人：负责人丙",
    ]
    assert "一键确认" in recorder.sent[0].text and "ack=" in recorder.sent[0].text


def test_acknowledged_alert_stops_escalating_and_gets_its_own_reminder(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "acknowledged_repeat_minutes": 60})
    recorder = Recorder()
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=2).id
    tick(factory, config, {"log": recorder}, clock)
    clock.advance(minutes=3)
    with session_scope(factory) as session:
        acknowledge(session, alert_id, "oncall-a", clock.now)
    clock.advance(minutes=59)
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 1  # no escalation at 15 min: it was acknowledged
    clock.advance(minutes=1)
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 2 and "已确认但未恢复" in recorder.sent[1].text
    assert "一键确认" not in recorder.sent[1].text


def test_repeat_reminders_while_firing_then_one_resolved_notice(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "repeat_minutes": 30,
                                 "escalation_minutes": {}})  # fmt: skip
    recorder = Recorder()
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=3).id
    for _ in range(7):  # 0, 10, … 60 minutes
        tick(factory, config, {"log": recorder}, clock)
        clock.advance(minutes=10)
    assert [m.notice.items[0].reason for m in recorder.sent] == [
        "首次通知", "仍未确认，第 1 次提醒", "仍未确认，第 2 次提醒",
    ]  # fmt: skip
    with session_scope(factory) as session:
        alert = session.get_one(Alert, alert_id)
        alert.state, alert.resolved_at = AlertState.RESOLVED.value, clock.now
    tick(factory, config, {"log": recorder}, clock)
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 4 and recorder.sent[3].notice.title.startswith(
        "【投诉预警已恢复】"
    )


def test_alerts_arriving_together_go_out_as_one_message_after_the_group_wait(factory, clock):
    config = make_config(routes={"group_wait_seconds": 30})
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now, severity=3, title="甲", key={"product_code": "P1"})
        add_alert(session, clock.now, severity=2, title="乙", key={"product_code": "P2"})
    tick(factory, config, {"log": recorder}, clock)
    assert recorder.sent == []
    clock.advance(seconds=30)
    tick(factory, config, {"log": recorder}, clock)
    [message] = recorder.sent
    assert [i.title for i in message.notice.items] == ["乙", "甲"]  # most severe first
    assert message.notice.title == "【Ⅱ级投诉预警】乙（共 2 条）"
    assert {r.status for r in rows(factory)} == {"sent"}


def test_planning_twice_creates_nothing_twice(factory, clock):
    config = make_config()
    with factory() as session:
        add_alert(session, clock.now)
    for _ in range(3):
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
    assert len(rows(factory)) == 1


def test_routes_pick_receivers_and_channels_by_labels(factory, clock):
    config = make_config(
        channels=[{"name": "log", "kind": "log"}, {"name": "urgent", "kind": "log"}],
        routes={
            "receivers": [{"name": "duty", "channels": ["log"]},
                          {"name": "bosses", "channels": ["urgent"]}],
            "route": {"receiver": "duty", "routes": [
                {"match": {"severity": [1, 2]}, "receiver": "bosses", "continue": True},
                {"match": {"product_line": "车险"}, "receiver": "duty"},
            ]},
            "group_wait_seconds": 0,
        },
    )  # fmt: skip
    with factory() as session:
        add_alert(session, clock.now, severity=1, key={"product_line": "车险"})
        add_alert(session, clock.now, severity=4, key={"product_line": "寿险"})
    tick(factory, config, {"log": Recorder("log"), "urgent": Recorder("urgent")}, clock)
    assert sorted((r.alert_id, r.channel) for r in rows(factory)) == [
        (1, "log"), (1, "urgent"), (2, "log"),
    ]  # fmt: skip


def test_event_alert_inhibits_the_product_alerts_it_contains(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "inhibit_rules": [
        {"source_match": {"rule_kind": "event"}, "min_overlap": 0.5}]})  # fmt: skip
    recorder = Recorder()
    with factory() as session:
        event = add_alert(
            session,
            clock.now,
            rule="flight-delay",
            rule_kind="event",
            key={"event_tag": "航班延误"},
            evidence={"complaint_ids": [1, 2, 3, 4]},
        )
        inside = add_alert(
            session,
            clock.now,
            title="延误险",
            key={"product_code": "D1"},
            evidence={"complaint_ids": [1, 2, 3]},
        )
        outside = add_alert(
            session,
            clock.now,
            title="车险",
            key={"product_code": "C1"},
            evidence={"complaint_ids": [9, 10]},
        )
        ids = (event.id, inside.id, outside.id)  # fmt: skip
    tick(factory, config, {"log": recorder}, clock)
    assert sorted(alert_ids(factory)) == [ids[0], ids[2]]
    with factory() as session:
        assert session.get(Alert, ids[1]).parent_alert_id == ids[0]  # recorded and linked
        assert session.get(Alert, ids[2]).parent_alert_id is None
    assert [e.alert_id for e in events(factory, "inhibited")] == [ids[1]]


def test_silenced_alert_is_held_back_until_the_silence_ends(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0})
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now, key={"product_code": "P9"})
        session.add(Silence(matchers={"product_code": "P9"}, starts_at=clock.now,
                            ends_at=clock.now + timedelta(hours=1), created_by="li",
                            comment="已知问题", created_at=clock.now))  # fmt: skip
        session.commit()
    tick(factory, config, {"log": recorder}, clock)
    assert recorder.sent == [] and events(factory, "notify_suppressed")
    clock.advance(hours=1)
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 1


def test_no_resolved_notice_during_a_silence_then_one_after_it(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0})
    recorder = Recorder()
    with factory() as session:
        alert_id = add_alert(session, clock.now, key={"product_code": "P7"}).id
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 1  # told it fired
    clock.advance(minutes=5)
    with session_scope(factory) as session:  # silenced for an hour, then resolved at once
        session.add(Silence(matchers={"product_code": "P7"}, starts_at=clock.now,
                            ends_at=clock.now + timedelta(hours=1), created_by="li",
                            comment="处理中", created_at=clock.now))  # fmt: skip
        alert = session.get_one(Alert, alert_id)
        alert.state, alert.resolved_at = AlertState.RESOLVED.value, clock.now
    for _ in range(6):  # ten-minute ticks through the silence
        tick(factory, config, {"log": recorder}, clock)
        clock.advance(minutes=10)
    assert len(recorder.sent) == 1, [m.notice.title for m in recorder.sent]
    clock.advance(minutes=5)  # the silence has ended
    tick(factory, config, {"log": recorder}, clock)
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 2 and recorder.sent[1].notice.title.startswith(
        "【投诉预警已恢复】"
    )


def test_mute_window_on_chinese_holidays_defers_and_does_not_drop(factory, clock):
    # 2026-10-01 is National Day; 2026-10-10 is a Saturday 调休 workday.
    clock.now = clock.now.replace(month=10, day=1, hour=16)  # 00:00 on 10-02 Shanghai
    config = make_config(routes={"group_wait_seconds": 0, "mute_windows": [
        {"name": "holiday-nights", "match": {"severity": 4}, "days": ["holiday"],
         "from_time": "22:00", "to_time": "08:00"}]})  # fmt: skip
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now, severity=4)
    tick(factory, config, {"log": recorder}, clock)
    assert recorder.sent == []
    clock.advance(hours=8)  # 08:00 Shanghai
    tick(factory, config, {"log": recorder}, clock)
    assert len(recorder.sent) == 1


DEAD_HOOK_FALLING_BACK_TO_LOG: list[dict[str, Any]] = [
    {"name": "hook", "kind": "webhook", "url_env": "T_DEAD_URL", "fallback": "log", "retries": 1,
     "fallback_after": 2},
    {"name": "log", "kind": "log"},
]  # fmt: skip


def test_failing_primary_falls_back_to_the_secondary_channel(factory, clock, monkeypatch):
    monkeypatch.setenv("T_DEAD_URL", f"http://127.0.0.1:{free_port()}/hook")  # refused
    config = make_config(
        channels=DEAD_HOOK_FALLING_BACK_TO_LOG,
        routes={"group_wait_seconds": 0, "escalation_minutes": {}},
    )  # fmt: skip
    recorder = Recorder()
    channels = {"hook": build_channel(config.channels.channels[0]), "log": recorder}
    with factory() as session:
        add_alert(session, clock.now)
    tick(factory, config, channels, clock)
    clock.advance(minutes=1)
    tick(factory, config, channels, clock)  # second failure: the fallback row is planned
    tick(factory, config, channels, clock)
    assert [(r.channel, r.status, r.attempts) for r in rows(factory)] == [
        ("hook", "failed", 2), ("log", "sent", 1),
    ]  # fmt: skip
    assert "ConnectError" in rows(factory)[0].last_error
    assert len(events(factory, "notify_failed")) == 2 and events(factory, "notify_fallback")
    assert len(recorder.sent) == 1


def test_no_fallback_to_a_channel_the_route_already_sends_to(factory, clock, monkeypatch):
    """The receiver gets the alert by webhook and by log; the dead webhook adds no second copy."""
    monkeypatch.setenv("T_DEAD_URL", f"http://127.0.0.1:{free_port()}/hook")  # refused
    config = make_config(
        channels=DEAD_HOOK_FALLING_BACK_TO_LOG,
        routes={"group_wait_seconds": 0, "escalation_minutes": {},
                "receivers": [{"name": "both", "channels": ["hook", "log"]}],
                "route": {"receiver": "both"}},
    )  # fmt: skip
    recorder = Recorder()
    channels = {"hook": build_channel(config.channels.channels[0]), "log": recorder}
    with factory() as session:
        add_alert(session, clock.now)
    for _ in range(3):
        tick(factory, config, channels, clock)
        clock.advance(minutes=1)
    assert sorted((r.channel, r.status) for r in rows(factory)) == [
        ("hook", "failed"), ("log", "sent"),
    ]  # fmt: skip
    assert len(recorder.sent) == 1
    assert [e.message for e in events(factory, "notify_fallback")] == [
        "hook 连续失败 2 次；log 已另行发送，不再重复"
    ]


class Crash(BaseException):
    """The process dies: nothing after the send runs (not an Exception, so nothing catches it)."""


class DiesAfterSending:
    def __init__(self, inner) -> None:
        self.inner, self.name = inner, inner.name
        self.supports_idempotency = inner.supports_idempotency

    def send(self, message: OutgoingMessage) -> None:
        self.inner.send(message)
        raise Crash


def test_restart_mid_send_on_an_idempotent_webhook_resends_the_same_key(
    factory, clock, httpserver, monkeypatch
):
    delivered: dict[str, int] = {}

    def receiver(request: Request) -> Response:  # drops repeated keys, as receivers are asked to
        key = request.headers["Idempotency-Key"]
        delivered[key] = delivered.get(key, 0) + 1
        return Response(json.dumps({"ok": True}))

    httpserver.expect_request("/hook").respond_with_handler(receiver)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    config = make_config(channels=[{"name": "hook", "kind": "webhook", "url_env": "T_HOOK_URL"}],
                         routes={"group_wait_seconds": 0, "escalation_minutes": {}})  # fmt: skip
    with factory() as session:
        add_alert(session, clock.now)
    dying = {"hook": DiesAfterSending(build_channel(config.channels.channels[0]))}
    with pytest.raises(Crash):
        tick(factory, config, dying, clock)
    assert [r.status for r in rows(factory)] == ["sending"]
    restarted = {"hook": build_channel(config.channels.channels[0])}
    tick(factory, config, restarted, clock)  # lease not expired yet: nothing is sent
    assert sum(delivered.values()) == 1
    clock.advance(minutes=6)
    tick(factory, config, restarted, clock)
    tick(factory, config, restarted, clock)
    assert list(delivered.values()) == [2]  # one key: the receiver keeps one message
    assert [r.status for r in rows(factory)] == ["sent"]


def test_restart_mid_send_on_a_robot_never_sends_twice(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "escalation_minutes": {}})
    recorder = Recorder()
    with factory() as session:
        add_alert(session, clock.now)
    with pytest.raises(Crash):
        tick(factory, config, {"log": DiesAfterSending(recorder)}, clock)
    clock.advance(minutes=10)
    for _ in range(3):
        tick(factory, config, {"log": recorder}, clock)
        clock.advance(minutes=1)
    assert len(recorder.sent) == 1
    [row] = rows(factory)
    assert row.status == "unknown" and events(factory, "notify_unknown")


def test_log_channel_works_without_any_environment(factory, clock, caplog):
    config = make_config(routes={"group_wait_seconds": 0})
    with factory() as session:
        add_alert(session, clock.now)
    log = config.channels.channels[0]
    assert isinstance(log, LogChannel)
    tick(factory, config, {"log": LogNotifier(log)}, clock)
    assert [r.status for r in rows(factory)] == ["sent"] and "投诉预警" in caplog.text
