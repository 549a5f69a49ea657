"""Falling back fast and visibly, against a signature-checking DingTalk stand-in and a real SMTP
server: a permanent error (wrong secret) falls back at once, a throttled Ⅰ/Ⅱ page after a
bounded wait, and the fallback copy names the channel that failed."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from storage.db import session_scope
from storage.models import AlertEvent, Notification
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_email import (
    body_of,
    smtp,  # noqa: F401  (the real aiosmtpd server fixture)
)
from tests.notify.test_robots import SECRET, dingtalk_server


def channels(smtp_port: int, **ding) -> list[dict]:
    return [
        {"name": "ding", "kind": "dingtalk", "url_env": "T_DING_URL", "secret_env": "T_DING_SECRET",
         "fallback": "mail", "retry_wait_seconds": 0, **ding},
        {"name": "mail", "kind": "email", "host": "127.0.0.1", "port": smtp_port,
         "security": "none", "from_addr": "radar@example.com", "retry_wait_seconds": 0},
    ]  # fmt: skip


def tick(factory, config, clock, built) -> None:
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, built, config, clock.now, dashboard_url="http://radar.local")


def robot(httpserver, monkeypatch, secret: str, handler=None) -> None:
    if handler is None:
        dingtalk_server(httpserver, [])
    else:
        httpserver.expect_request("/robot/send").respond_with_handler(handler)
    monkeypatch.setenv("T_DING_URL", httpserver.url_for("/robot/send") + "?access_token=abc")
    monkeypatch.setenv("T_DING_SECRET", secret)


def mails(inbox) -> list[str]:
    return [
        body_of(message_from_bytes(raw, policy=policy.default))
        for _sender, _to, raw in inbox.messages
    ]


def test_a_wrong_secret_falls_back_to_email_at_once_naming_the_failed_channel(
    factory,
    clock,
    httpserver,
    monkeypatch,
    smtp,  # noqa: F811
):
    controller, inbox = smtp
    robot(httpserver, monkeypatch, "SECwrong")
    config = make_config(channels=channels(controller.port), routes={"group_wait_seconds": 0})
    built = {c.name: build_channel(c) for c in config.channels.channels}
    with factory() as session:
        add_alert(session, clock.now, severity=1)
    tick(factory, config, clock, built)  # 310000: permanent, the email row is queued now
    tick(factory, config, clock, built)  # ... and sent in the same minute
    with factory() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(r.channel, r.status, r.attempts) for r in rows] == [
            ("ding", "failed", 1), ("mail", "sent", 1),
        ]  # fmt: skip
        fallback = session.scalar(select(AlertEvent).where(AlertEvent.kind == "notify_fallback"))
        assert fallback.message == "ding 连续失败 1 次，改用 mail"
    [text] = mails(inbox)
    assert "ding 发送失败，改由 mail 发送" in text


def test_a_throttled_severe_page_falls_back_after_a_bounded_wait(
    factory,
    clock,
    httpserver,
    monkeypatch,
    smtp,  # noqa: F811
):
    controller, inbox = smtp

    def throttled(request: Request) -> Response:
        return Response(json.dumps({"errcode": 130101, "errmsg": "send too fast"}))

    robot(httpserver, monkeypatch, SECRET, throttled)
    config = make_config(
        channels=channels(controller.port),
        routes={"group_wait_seconds": 0, "escalation_minutes": {}},
    )
    built = {c.name: build_channel(c) for c in config.channels.channels}
    with factory() as session:
        add_alert(session, clock.now, severity=1, title="严重")
        add_alert(session, clock.now, severity=4, title="一般", key={"product_code": "P4"})
    for _ in range(4):  # 0, 1, 2, 3 minutes
        tick(factory, config, clock, built)
        clock.advance(minutes=1)
    [text] = mails(inbox)  # the Ⅰ级 page went by email within 3 minutes
    assert "严重" in text and "一般" not in text and "ding 发送失败，改由 mail 发送" in text
    with factory() as session:
        statuses = {
            (r.channel, r.alert_id): r.status for r in session.scalars(select(Notification))
        }
    assert statuses == {("ding", 1): "failed", ("mail", 1): "sent", ("ding", 2): "pending"}
