"""Messages a phone can act on, delivered to real local receivers on both databases: the first
line says what and where, the product's name and the regions come from the complaints, a
threshold is called a threshold, and a recovery asks nobody to act."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert, Complaint
from tests.dashboard.seed import complaint, ingest
from tests.notify.conftest import add_alert, make_config


def receiver(httpserver, monkeypatch, path: str, env: str) -> list[dict]:
    bodies: list[dict] = []

    def handler(request: Request) -> Response:
        bodies.append(request.get_json())
        return Response(json.dumps({"errcode": 0, "ok": True}))

    httpserver.expect_request(path).respond_with_handler(handler)
    monkeypatch.setenv(env, httpserver.url_for(path))
    return bodies


def tick(factory, config, clock) -> None:
    built = {c.name: build_channel(c) for c in config.channels.channels}
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, built, config, clock.now, dashboard_url="http://radar.local")


def burst_alert(engine, factory, clock) -> int:
    """Nine complaints about CAR-001 from two provinces, and the threshold alert they raised."""
    regions = ["广东"] * 6 + ["上海"] * 3
    ingest(engine, [complaint(i, clock.now - timedelta(minutes=i), region=r)
                    for i, r in enumerate(regions)])  # fmt: skip
    with factory() as session:
        ids = list(session.scalars(select(Complaint.id).order_by(Complaint.id)))
        return add_alert(
            session, clock.now, title="产品 安心交强险 1小时投诉 9 件", rule_kind="threshold",
            key={"product_code": "CAR-001"}, count=9, expected=8.0,
            evidence={"complaint_ids": ids},
        ).id  # fmt: skip


def test_first_line_says_what_and_where_and_the_threshold_is_named(
    engine, factory, clock, httpserver, monkeypatch
):
    bodies = receiver(httpserver, monkeypatch, "/hook", "T_HOOK_URL")
    config = make_config(channels=[{"name": "hook", "kind": "webhook", "url_env": "T_HOOK_URL"}],
                         routes={"group_wait_seconds": 0})  # fmt: skip
    burst_alert(engine, factory, clock)
    tick(factory, config, clock)
    [body] = bodies
    assert body["title"] == "【Ⅰ级投诉预警】产品 安心交强险 1小时投诉 9 件"
    assert (
        "数量：9 件（阈值 8）；范围：产品 安心交强险（CAR-001） · 地区 广东、上海" in body["text"]
    )
    assert "基线" not in body["text"]


def test_a_recovery_notice_asks_nobody_to_act(engine, factory, clock, httpserver, monkeypatch):
    bodies = receiver(httpserver, monkeypatch, "/cgi-bin/webhook/send", "T_WECOM_URL")
    config = make_config(channels=[{"name": "wx", "kind": "wecom", "url_env": "T_WECOM_URL"}],
                         routes={"group_wait_seconds": 0, "escalation_minutes": {}})  # fmt: skip
    alert_id = burst_alert(engine, factory, clock)
    tick(factory, config, clock)
    assert [b["msgtype"] for b in bodies] == ["markdown", "text"]  # the page @-mentions
    assert bodies[1]["text"]["content"].startswith("请 值班甲 处理")
    with session_scope(factory) as session:
        alert = session.get_one(Alert, alert_id)
        alert.state, alert.resolved_at = AlertState.RESOLVED.value, clock.now
    clock.advance(minutes=1)
    tick(factory, config, clock)
    assert [b["msgtype"] for b in bodies] == ["markdown", "text", "markdown"]
    recovery = bodies[2]["markdown"]["content"]
    assert recovery.startswith("### 【投诉预警已恢复】产品 安心交强险") and "处理" not in recovery
