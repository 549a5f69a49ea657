"""Reassign and add a responder (the incident page), on both databases: the person named is
paged once by the planner, however often it runs and across a restart; the new owner takes the
on-call's reminders; both actions refuse what makes no sense, in Chinese then English."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from alerts.notify.dispatch import plan
from alerts.state.actions import ActionError, add_responder, reassign, resolve
from dashboard.alert_timeline import sentence, timeline
from domain.states import EventKind
from storage.db import make_session_factory, session_scope
from storage.models import Alert, AlertEvent, Notification
from tests.notify.conftest import ROSTER, add_alert, make_config
from tests.notify.test_send_time import HOOK, hook_receiver, tick

SPARE = {"id": "spare-d", "name": "备班丁", "phone": "13900000004"}
ROSTER_D = {**ROSTER, "people": [*ROSTER["people"], SPARE]}
ROUTES = {"group_wait_seconds": 0, "repeat_minutes": 60, "escalation_minutes": {2: 600}}


def rows_for(factory, person: str) -> list[Notification]:
    with factory() as session:
        query = select(Notification).where(Notification.receiver == person)
        return list(session.scalars(query.order_by(Notification.id)))


def plan_twice_and_restart(engine, factory, config, clock) -> None:
    """The planner's pass, again at once, then again from a fresh engine (a restarted worker)."""
    for _ in range(2):
        with session_scope(factory) as session:
            plan(session, config, clock.now)
    engine.dispose()
    with session_scope(make_session_factory(engine)) as session:
        plan(session, config, clock.now)


def test_reassign_pages_the_new_owner_once_and_moves_the_reminders(
    engine, factory, clock, httpserver, monkeypatch
):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes=ROUTES, roster=ROSTER_D)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=2).id
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a"]

    clock.advance(minutes=5)
    with session_scope(factory) as session:
        reassign(session, alert_id, "oncall-a", clock.now, "spare-d", config.roster)
    plan_twice_and_restart(engine, factory, config, clock)
    [row] = rows_for(factory, "spare-d")
    assert "+reassigned." in row.idempotency_key and row.message == "值班甲 将告警转交给你"
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a", "spare-d"]
    with factory() as session:
        assert session.get(Alert, alert_id).assignee == "spare-d"
        event = session.scalars(
            select(AlertEvent).where(AlertEvent.kind == EventKind.REASSIGNED.value)
        ).one()
        assert (event.actor, event.message) == ("oncall-a", "spare-d")

    clock.advance(minutes=60)  # the first reminder goes to the owner, not to the on-call
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a", "spare-d", "spare-d"]
    assert len(rows_for(factory, "oncall-a")) == 1

    with session_scope(factory) as session:  # handed back: paged again, by the new event
        reassign(session, alert_id, "spare-d", clock.now, "oncall-a", config.roster)
    plan_twice_and_restart(engine, factory, config, clock)
    assert len(rows_for(factory, "oncall-a")) == 2
    assert len(rows_for(factory, "spare-d")) == 2

    with session_scope(factory) as session:  # everyone paged hears that it is over
        resolve(session, alert_id, "oncall-a", clock.now)
    tick(factory, config, clock)
    told = sorted(b["receiver"]["id"] for b in received if b["alerts"][0]["state"] == "resolved")
    assert told == ["oncall-a", "spare-d"]


def test_an_added_responder_is_paged_once_and_the_owner_stays(engine, factory, clock):
    config = make_config(routes=ROUTES, roster=ROSTER_D)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=2).id
    with session_scope(factory) as session:
        plan(session, config, clock.now)
        add_responder(session, alert_id, "manager-b", clock.now, "spare-d", config.roster)
    plan_twice_and_restart(engine, factory, config, clock)
    [row] = rows_for(factory, "spare-d")
    assert row.idempotency_key.startswith(f"{alert_id}:firing:L0:R0:")
    assert "+responder.spare-d:" in row.idempotency_key
    assert row.message == "经理乙 请你协助处理"
    with factory() as session:
        assert session.get(Alert, alert_id).assignee == ""
    with session_scope(factory) as session:  # a typed operator's name is made inert
        add_responder(
            session, alert_id, "[x](https://evil.example)", clock.now, "head-c", config.roster
        )
    with session_scope(factory) as session:
        plan(session, config, clock.now)
    [row] = rows_for(factory, "head-c")
    assert row.message == "［x］hxxps://evil［.］example 请你协助处理"  # no link, no "（"
    clock.advance(minutes=60)  # the reminder still goes to the on-call, not the responder
    with session_scope(factory) as session:
        plan(session, config, clock.now)
    assert len(rows_for(factory, "oncall-a")) == 2
    assert len(rows_for(factory, "spare-d")) == 1


@pytest.mark.parametrize("action", [add_responder, reassign])
def test_the_on_call_named_before_the_first_page_is_paged_once(engine, factory, clock, action):
    """Named as responder or owner before the planner first ran (or while a mute window held
    the alert back): the on-call's own first page is the one page they get."""
    config = make_config(routes=ROUTES, roster=ROSTER_D)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=2).id
    with session_scope(factory) as session:
        action(session, alert_id, "manager-b", clock.now, "oncall-a", config.roster)
    plan_twice_and_restart(engine, factory, config, clock)
    [row] = rows_for(factory, "oncall-a")
    assert "+" not in row.idempotency_key and row.message == "首次通知"
    clock.advance(minutes=1)  # someone else named later is still paged
    with session_scope(factory) as session:
        add_responder(session, alert_id, "manager-b", clock.now, "spare-d", config.roster)
    plan_twice_and_restart(engine, factory, config, clock)
    assert len(rows_for(factory, "spare-d")) == 1


def test_both_refuse_what_makes_no_sense(factory, clock):
    config = make_config(routes=ROUTES, roster=ROSTER_D)
    roster = config.roster
    with factory() as session:
        alert_id = add_alert(session, clock.now).id
        pending_id = add_alert(session, clock.now, state="pending", title="p").id
        done_id = add_alert(session, clock.now, state="resolved", title="r").id
    with session_scope(factory) as session:
        plan(session, config, clock.now)  # the on-call is paged

    def refused(action, alert: int, person: str, words: str) -> None:
        with session_scope(factory) as session, pytest.raises(ActionError, match=words):
            action(session, alert, "oncall-a", clock.now, person, roster)

    refused(reassign, done_id, "spare-d", "已解除的告警不能转交 / ")
    refused(add_responder, done_id, "spare-d", "不能添加响应人 / ")
    refused(add_responder, pending_id, "spare-d", "不能添加响应人 / ")
    refused(reassign, alert_id, "nobody", "值班表中没有此人 / ")
    refused(add_responder, alert_id, "nobody", "值班表中没有此人 / ")
    refused(reassign, 999999, "spare-d", "不存在 / ")
    with factory() as session:  # a situation's member is paged through its lead
        member_id = add_alert(session, clock.now, title="m", parent_alert_id=alert_id).id
    refused(reassign, member_id, "spare-d", f"此告警已并入 #{alert_id}，请在 #{alert_id} 上操作 / ")
    refused(add_responder, member_id, "spare-d", f"已并入 #{alert_id}")
    refused(add_responder, alert_id, "oncall-a", "已收到此告警的通知 / ")  # paged by the planner
    with session_scope(factory) as session:
        add_responder(session, alert_id, "oncall-a", clock.now, "manager-b", roster)
    refused(add_responder, alert_id, "manager-b", "已收到此告警的通知 / ")  # not planned yet
    with session_scope(factory) as session:
        reassign(session, alert_id, "oncall-a", clock.now, "spare-d", roster)
    refused(reassign, alert_id, "spare-d", "已是负责人 / ")
    refused(add_responder, alert_id, "spare-d", "已收到此告警的通知 / ")
    with session_scope(factory) as session:  # a pending alert may get an owner, paged when it fires
        reassign(session, pending_id, "oncall-a", clock.now, "spare-d", roster)
        plan(session, config, clock.now)
        pending_rows = select(Notification.id).where(Notification.alert_id == pending_id)
        assert session.scalars(pending_rows).all() == []
        kinds = session.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == alert_id))
        assert sorted(kinds) == ["reassigned", "responder_added"]


def test_the_timeline_names_the_people():
    names = {"oncall-a": "值班甲", "spare-d": "备班丁"}
    assert sentence("reassigned", "值班甲", "备班丁", "zh") == "值班甲 将告警转交给 备班丁"
    events = pd.DataFrame(
        [(datetime(2026, 12, 1, tzinfo=UTC), "responder_added", "oncall-a", "spare-d")],
        columns=["at", "kind", "actor", "message"],
    )
    [what] = timeline(events, names, "en", UTC).iloc[:, 1]
    assert what == "值班甲 asked 备班丁 to help (added a responder)"
