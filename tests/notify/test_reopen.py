"""A re-trigger reopens the same incident: resolved by a person while the condition still held,
the alert comes back as itself (history kept, a new episode), and the on-call hears "第 2 次触发",
never "已恢复" and "首次通知" of two alerts at once. On both databases, with a real webhook."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from alerts.detect.findings import Finding
from alerts.state.actions import acknowledge, resolve
from alerts.state.lifecycle import SqlAlertStore, apply_findings
from dashboard.alert_timeline import sentence
from storage.db import session_scope
from storage.models import Alert, AlertEvent, Notification
from tests.notify.conftest import make_config
from tests.notify.test_send_time import HOOK, hook_receiver, tick


@dataclass(frozen=True)
class Rule:
    name: str = "product-surge"
    kind: str = "surge"
    for_minutes: int = 0
    resolve_after_minutes: int = 120


def finding(now, count: int = 12) -> Finding:
    return Finding(
        rule="product-surge", rule_kind="surge", key={"product_code": "P001"}, count=count,
        expected=2.0, score=8.0, severity=2, title=f"产品 P001：60 分钟投诉 {count} 件",
        since=now - timedelta(hours=1), until=now,
    )  # fmt: skip


def evaluate(factory, clock, found: bool, count: int = 12) -> None:
    with session_scope(factory) as session:
        findings = [finding(clock.now, count)] if found else []
        apply_findings(SqlAlertStore(session), Rule(), findings, clock.now)


def reasons(received: list[dict]) -> list[str]:
    """What each message said about its alert: 首次通知, 再次触发…, or 已恢复."""
    out: list[str] = []
    for body in received:
        if body["alerts"][0]["state"] == "resolved":
            out.append("已恢复")
        else:
            found = re.search(r"状态：([^·\n]+)·", body["text"])
            assert found is not None, body["text"]
            out.append(found.group(1))
    return out


def alerts(factory) -> list[Alert]:
    with factory() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def kinds(factory, alert_id: int) -> list[str]:
    with factory() as session:
        query = select(AlertEvent.kind).where(AlertEvent.alert_id == alert_id)
        return list(session.scalars(query.order_by(AlertEvent.id)))


def test_resolving_while_the_condition_holds_reopens_the_same_alert(
    factory, clock, httpserver, monkeypatch
):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes={"group_wait_seconds": 0})
    evaluate(factory, clock, True)
    tick(factory, config, clock)
    [first] = alerts(factory)
    assert reasons(received) == ["首次通知"]

    clock.advance(minutes=5)
    with session_scope(factory) as session:
        acknowledge(session, first.id, "oncall-a", clock.now)
    clock.advance(minutes=5)
    with session_scope(factory) as session:
        resolve(session, first.id, "oncall-a", clock.now)
    clock.advance(seconds=30)
    evaluate(factory, clock, True, count=15)  # 30 s later the surge is still there
    tick(factory, config, clock)

    [again] = alerts(factory)  # the same alert, not a second one
    assert again.id == first.id and again.state == "firing" and again.episode == 1
    assert again.acknowledged_by == "" and again.resolved_at is None
    trail = kinds(factory, first.id)
    assert trail[trail.index("resolved") + 1] == "reopened"
    with factory() as session:
        query = select(AlertEvent.message).where(AlertEvent.kind == "reopened")
        assert session.scalars(query).all() == ["第 2 次触发"]  # the timeline adds the why
    # no 已恢复 in between, no 首次通知 of a second alert
    assert reasons(received) == ["首次通知", "第 2 次触发"]

    # the second episode escalates and ends on its own clock, and is told once
    clock.advance(minutes=200)
    evaluate(factory, clock, False)
    clock.advance(minutes=121)
    evaluate(factory, clock, False)
    tick(factory, config, clock)
    tick(factory, config, clock)
    [done] = alerts(factory)
    assert done.state == "resolved" and done.episode == 1
    assert reasons(received)[-1] == "已恢复"
    assert reasons(received).count("已恢复") == 1
    with factory() as session:
        keys = session.scalars(select(Notification.idempotency_key)).all()
        assert len(keys) == len(set(keys))
        assert any(k.startswith(f"{first.id}e1:resolved:") for k in keys)

    # resolved by the lifecycle (below the condition for two hours): a new incident next time
    clock.advance(minutes=1)
    evaluate(factory, clock, True)
    assert [a.id for a in alerts(factory)][-1] != first.id


def test_an_alert_resolved_long_ago_or_after_its_condition_cleared_is_not_reopened(factory, clock):
    evaluate(factory, clock, True)
    [first] = alerts(factory)
    clock.advance(minutes=1)
    evaluate(factory, clock, False)  # the condition cleared, then a person resolves
    with session_scope(factory) as session:
        resolve(session, first.id, "oncall-a", clock.now)
    clock.advance(minutes=1)
    evaluate(factory, clock, True)
    assert len(alerts(factory)) == 2

    with session_scope(factory) as session:
        resolve(session, alerts(factory)[-1].id, "oncall-a", clock.now)
    clock.advance(minutes=121)  # later than the rule's resolve_after_minutes
    evaluate(factory, clock, True)
    with factory() as session:
        assert session.scalar(select(func.count(Alert.id))) == 3


def test_the_console_says_the_reopening_in_words():
    zh = sentence("reopened", "system", "第 2 次触发", "zh")
    assert zh.endswith("条件仍成立，告警重新打开（第 2 次触发）")
    assert "reopened" in sentence("reopened", "system", "第 2 次触发", "en")
