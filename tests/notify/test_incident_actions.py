"""Incident actions beyond acknowledge and resolve, on both databases with a real webhook:
escalate now (the manager is paged at once, not after the escalation minutes) and merge (two
alerts become one situation, paged once through its lead)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alerts.state.actions import ActionError, escalate_now, merge, resolve
from storage.db import session_scope
from storage.models import Alert, AlertEvent
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_send_time import HOOK, hook_receiver, tick

ROUTES = {"group_wait_seconds": 0, "escalation_minutes": {1: 15, 2: 15, 3: 30, 4: 60}}


def test_escalate_now_pages_the_next_level_at_once(factory, clock, httpserver, monkeypatch):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes=ROUTES)
    with factory() as session:
        alert_id = add_alert(session, clock.now, severity=2).id
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a"]
    clock.advance(minutes=2)  # 13 minutes before the manager would be paged
    with session_scope(factory) as session:
        escalate_now(session, alert_id, "oncall-a", clock.now)
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a", "manager-b"]
    assert "值班人员要求立即，升级至" in received[-1]["text"]
    clock.advance(minutes=14)  # the clock's own step to the manager: already done, not twice
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a", "manager-b"]
    with session_scope(factory) as session:  # asked again: the level above the manager
        escalate_now(session, alert_id, "manager-b", clock.now)
    tick(factory, config, clock)
    assert [b["receiver"]["id"] for b in received] == ["oncall-a", "manager-b", "head-c"]


def test_an_acknowledged_alert_is_not_escalated_by_hand(factory, clock):
    with factory() as session:
        alert = add_alert(session, clock.now, state="acknowledged")
        with pytest.raises(ActionError):
            escalate_now(session, alert.id, "oncall-a", clock.now)


def test_merge_makes_one_situation_paged_through_its_lead(factory, clock, httpserver, monkeypatch):
    received = hook_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes=ROUTES)
    with factory() as session:
        lead = add_alert(session, clock.now, severity=3, title="产品 P001").id
        other = add_alert(session, clock.now, severity=2, title="产品 P002").id
        attached = add_alert(session, clock.now, severity=4, title="产品 P003").id
        session.get(Alert, attached).parent_alert_id = other
        session.commit()
    with session_scope(factory) as session:
        merge(session, other, "oncall-a", clock.now, lead)
    with factory() as session:
        rows = {a.id: a for a in session.scalars(select(Alert))}
        assert rows[other].parent_alert_id == lead
        assert rows[attached].parent_alert_id == lead  # the merged alert's own members follow
        assert rows[lead].severity == 2  # the lead takes the worse severity
        kinds = session.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == other))
        assert "linked" in list(kinds)
    tick(factory, config, clock)
    assert [b["alerts"][0]["id"] for b in received] == [lead]  # one page, through the lead

    with session_scope(factory) as session:
        with pytest.raises(ActionError):
            merge(session, lead, "oncall-a", clock.now, lead)
        with pytest.raises(ActionError):
            merge(session, lead, "oncall-a", clock.now, other)  # other is already inside lead
        resolve(session, attached, "oncall-a", clock.now)
    with session_scope(factory) as session, pytest.raises(ActionError):
        merge(session, attached, "oncall-a", clock.now, lead)
