"""One truth about when an alert began: its first complaint counted, kept while the window
slides, and the same time on the wall, in the console and in the message (both databases)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from alerts.detect.findings import alert_start
from alerts.state.engine import evaluate
from dashboard import panels, queries
from storage.db import session_scope
from storage.models import Alert
from tests.alerts.test_detection_engine import RULES, Row, add
from tests.notify.conftest import make_config
from tests.notify.test_send_time import HOOK, hook_receiver, tick


def test_an_alert_starts_at_its_first_complaint_everywhere(session, clock, engine):
    t = clock.now
    first = t - timedelta(minutes=12)
    add(session, [Row(f"a{i}", first + timedelta(minutes=4 * i)) for i in range(4)])
    evaluate(session, RULES, t)
    evaluate(session, RULES, t + timedelta(minutes=10))
    session.commit()
    [alert] = session.scalars(select(Alert)).all()
    assert alert.state == "firing"
    assert alert.started_at == t  # when the engine opened it …
    assert alert_start(alert.evidence, alert.started_at) == first  # … not when it began

    # 40 minutes on, the 60-minute window no longer holds the first complaint: the start stays
    add(session, [Row(f"b{i}", t + timedelta(minutes=40 + i)) for i in range(3)])
    evaluate(session, RULES, t + timedelta(minutes=55))
    session.commit()
    session.refresh(alert)
    assert alert_start(alert.evidence, alert.started_at) == first
    session.commit()  # the dashboard reads through its own connection

    wall = queries.active_alerts(engine)
    assert wall["started_at"].iloc[0] == first
    table = panels.alerts_table(wall, t + timedelta(minutes=55), "zh")
    assert list(table.columns[3]) == ["1小时07分"]  # 持续: from the first complaint
    detail = queries.alert_detail(engine, alert.id)
    assert detail is not None and detail.alert["started_at"] == first


def test_the_message_says_the_same_start(factory, clock, httpserver, monkeypatch):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes={"group_wait_seconds": 0})
    t = clock.now
    first = t - timedelta(minutes=12)
    with session_scope(factory) as session:
        add(session, [Row(f"a{i}", first + timedelta(minutes=4 * i)) for i in range(4)])
    for minutes in (0, 10):
        with session_scope(factory) as session:
            evaluate(session, RULES, t + timedelta(minutes=minutes))
    clock.advance(minutes=10)
    tick(factory, config, clock)
    [body] = received
    local = first.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
    assert f"开始：{local}（北京时间）" in body["text"]
