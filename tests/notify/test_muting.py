"""The muting stages: silences, inhibition and mute windows are asked in that order; the first
reason wins and is written once; a mute window only defers and writes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerts.notify.dispatch import plan
from domain.states import AlertState, EventKind
from storage.db import session_scope
from storage.models import Alert, AlertEvent, Notification, Silence
from tests.notify.conftest import add_alert, make_config

ALWAYS = {"name": "all-day", "match": {"severity": 4}, "days": ["any"],
          "from_time": "00:00", "to_time": "23:59"}  # fmt: skip


def test_the_first_reason_wins_and_is_written_once(factory, clock):
    config = make_config(routes={"group_wait_seconds": 0, "mute_windows": [ALWAYS]})
    with session_scope(factory) as session:
        parent = add_alert(session, clock.now, title="事件", key={"event_tag": "暴雷"})
        child = add_alert(session, clock.now, title="产品", key={"product_code": "P9"},
                          severity=4, parent_alert_id=parent.id)  # fmt: skip
        session.add(Silence(matchers={"product_code": "P9"}, starts_at=clock.now,
                            ends_at=clock.now + timedelta(hours=1), created_by="li",
                            comment="已知问题", created_at=clock.now))  # fmt: skip
        parent_id, child_id = parent.id, child.id

    def tick() -> list[str]:
        with session_scope(factory) as session:
            plan(session, config, clock.now)
        with factory() as session:
            query = select(AlertEvent.message).where(
                AlertEvent.alert_id == child_id, AlertEvent.kind == EventKind.NOTIFY_SUPPRESSED
            )
            return list(session.scalars(query.order_by(AlertEvent.id)))

    tick()
    assert tick() == ["已静默：记录但不通知"]  # silenced, inhibited and muted: the silence says
    clock.advance(hours=1)
    tick()
    assert tick()[1:] == [f"并入告警 #{parent_id}（同一情况），由其统一通知"]
    with session_scope(factory) as session:
        session.get_one(Alert, parent_id).state = AlertState.RESOLVED.value
    assert len(tick()) == 2  # only the mute window holds it back now: nothing written
    with factory() as session:
        paged = session.scalars(select(Notification).where(Notification.alert_id == child_id))
        assert list(paged) == []
