"""What the outbox decides at send time, against real local receivers on both databases:
rows re-checked against the alert's current state, and timeouts after the request left."""

from __future__ import annotations

import json

from sqlalchemy import select
from werkzeug import Request, Response

from alerts.actions import acknowledge, resolve
from alerts.notify.channels import build_channel
from alerts.notify.dispatch import deliver_due, plan
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
