"""What the outbox decides at send time, against real local receivers on both databases:
rows re-checked against the alert's current state, and timeouts after the request left."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from alerts.state.actions import acknowledge, resolve
from storage.db import session_scope
from storage.models import AlertEvent, Notification
from tests.notify.conftest import add_alert, make_config

HOOK = [{"name": "hook", "kind": "webhook", "url_env": "T_HOOK_URL"}]


def hook_receiver(httpserver, monkeypatch) -> list[dict]:
    """A webhook receiver on loopback that keeps every POSTed body."""
    received: list[dict] = []

    def handler(request: Request) -> Response:
        received.append(request.get_json())
        return Response(json.dumps({"ok": True}))

    httpserver.expect_request("/hook").respond_with_handler(handler)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    return received


def tick(factory, config, clock) -> None:
    channels = {c.name: build_channel(c) for c in config.channels.channels}
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, channels, config, clock.now, dashboard_url="http://radar.local")


def statuses(factory) -> list[tuple[int, str]]:
    with factory() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id))
        return [(r.escalation_level, r.status) for r in rows]


def trail(factory, kind: str) -> list[str]:
    with factory() as session:
        query = select(AlertEvent.message).where(AlertEvent.kind == kind)
        return list(session.scalars(query.order_by(AlertEvent.id)))


def test_escalation_queued_before_an_acknowledgement_is_cancelled_at_send_time(
    factory, clock, httpserver, monkeypatch
):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes={"group_wait_seconds": 30})
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=1).id
    tick(factory, config, clock)
    clock.advance(seconds=30)
    tick(factory, config, clock)  # the on-call is paged
    clock.advance(minutes=4, seconds=55)
    tick(factory, config, clock)  # 5 min unacknowledged: the manager's page is queued (+30 s)
    clock.advance(seconds=5)
    with session_scope(factory) as session:
        acknowledge(session, alert_id, "oncall-a", clock.now)
    clock.advance(seconds=43)
    tick(factory, config, clock)
    assert [body["receiver"]["id"] for body in received] == ["oncall-a"]
    assert statuses(factory) == [(0, "sent"), (1, "cancelled")]
    [cancelled] = trail(factory, "notify_cancelled")
    assert cancelled.startswith(
        "告警已确认（oncall-a），取消待发通知：5 分钟未确认，升级至值班经理"
    )


def test_reminder_of_an_acknowledged_alert_is_cancelled_once_it_is_resolved(
    factory, clock, httpserver, monkeypatch
):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(
        channels=HOOK, routes={"group_wait_seconds": 60, "acknowledged_repeat_minutes": 60}
    )
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=3).id
    with session_scope(factory) as session:
        acknowledge(session, alert_id, "oncall-a", clock.now)
    clock.advance(minutes=60)
    tick(factory, config, clock)  # the reminder is queued for a minute later
    clock.advance(seconds=30)
    with session_scope(factory) as session:
        resolve(session, alert_id, "oncall-a", clock.now)
    clock.advance(seconds=30)
    tick(factory, config, clock)
    assert received == []
    assert statuses(factory) == [(0, "cancelled")]
    assert trail(factory, "notify_cancelled")[0].startswith("告警已恢复，取消待发通知")


def slow_robot(httpserver, monkeypatch, seconds: float) -> tuple[list[dict], threading.Event]:
    """A DingTalk-like robot that posts the message, then answers only after ``seconds``; the
    event is set once it has answered (the test server handles one request at a time)."""
    posted: list[dict] = []
    answered = threading.Event()

    def handler(request: Request) -> Response:
        answered.clear()
        posted.append(request.get_json())
        time.sleep(seconds)
        answered.set()
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}))

    httpserver.expect_request("/robot/send").respond_with_handler(handler)
    monkeypatch.setenv("T_DING_URL", httpserver.url_for("/robot/send") + "?access_token=t")
    monkeypatch.setenv("T_DING_SECRET", "SEC-test")
    return posted, answered


def test_a_robot_answering_after_the_timeout_is_not_paged_twice(
    factory, clock, httpserver, monkeypatch
):
    posted, answered = slow_robot(httpserver, monkeypatch, seconds=1.0)
    ding = {"name": "ding", "kind": "dingtalk", "url_env": "T_DING_URL",
            "secret_env": "T_DING_SECRET", "timeout_seconds": 0.3}  # fmt: skip
    config = make_config(
        channels=[ding], routes={"group_wait_seconds": 0, "escalation_minutes": {}}
    )
    with factory() as session:
        add_alert(session, clock.now, severity=2)
    tick(factory, config, clock)
    for _ in range(4):  # backoff and lease would both have passed
        assert answered.wait(5)
        clock.advance(minutes=3)
        tick(factory, config, clock)
    assert len(posted) == 1
    assert statuses(factory) == [(0, "unknown")]
    assert trail(factory, "notify_unknown")[0].startswith("ding 请求已发出但未收到答复，结果未知")


def test_a_slow_webhook_gets_the_same_key_again(factory, clock, httpserver, monkeypatch):
    keys: list[str] = []
    answers = iter([1.0, 0.0])
    answered = threading.Event()

    def handler(request: Request) -> Response:
        keys.append(request.headers["Idempotency-Key"])
        time.sleep(next(answers))
        answered.set()
        return Response(json.dumps({"ok": True}))

    httpserver.expect_request("/hook").respond_with_handler(handler)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    hook = [{**HOOK[0], "timeout_seconds": 0.3}]
    config = make_config(channels=hook, routes={"group_wait_seconds": 0, "escalation_minutes": {}})
    with factory() as session:
        add_alert(session, clock.now)
    tick(factory, config, clock)
    assert answered.wait(5)
    clock.advance(minutes=1)
    tick(factory, config, clock)
    assert len(keys) == 2 and keys[0] == keys[1]  # the receiver drops the repeat
    assert statuses(factory) == [(0, "sent")]
