"""One situation, one alert: the pure test, the live engine on real databases, the backtest."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select

from alerts.backtest.replay import run_backtest
from alerts.notify.dispatch import plan
from alerts.state.engine import evaluate
from alerts.state.situations import AlertView, Firing, lead_for, same_situation, situation_ids
from config.rules import RulesFile
from storage.ingest import ingest_complaints
from storage.models import Alert, AlertEvent, Notification
from tests.alerts.detection_helpers import COLUMNS, complaint
from tests.alerts.test_detection_engine import Row
from tests.notify.conftest import make_config

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# three rules that all see one product's burst: the product, product × category, channel ×
# product; and one over category × region, which the burst alone does not make
RULES = RulesFile.model_validate(
    {
        "rules": [
            {"name": "product", "kind": "threshold", "group_by": ["product_code"],
             "window_minutes": 60, "threshold": 5, "severity": 3},
            {"name": "product-category", "kind": "threshold",
             "group_by": ["product_code", "category"], "window_minutes": 60, "threshold": 5,
             "severity": 3, "escalate": [{"min_count": 8, "severity": 2}]},
            {"name": "channel-product", "kind": "threshold",
             "group_by": ["channel", "product_code"], "window_minutes": 60, "threshold": 5,
             "severity": 3},
        ]
    }
)  # fmt: skip


def view(i: int, key: dict, ids=(), parent=None) -> AlertView:
    return AlertView(i, key, frozenset(ids), parent)


def test_same_product_or_tag_or_most_complaints_shared_is_one_situation():
    product = view(1, {"product_code": "P1"})
    assert same_situation(view(2, {"product_code": "P1", "category": "理赔"}), product)
    assert same_situation(view(2, {"channel": "social", "product_code": "P1"}), product)
    assert not same_situation(view(2, {"product_code": "P2"}), product)
    wave = view(1, {"event_tag": "暴雪"}, ids=range(10))
    assert same_situation(view(2, {"product_code": "P7"}, ids=range(4, 10)), wave)  # 6 of 6
    assert not same_situation(view(2, {"product_code": "P7"}, ids=range(8, 20)), wave)  # 2 of 12
    assert not same_situation(view(2, {"region": "广东"}), view(1, {"region": "广东"}, ids=[1]))


def test_a_new_alert_joins_the_lead_of_an_older_alert_never_a_newer_one():
    lead = view(1, {"event_tag": "暴雪"}, ids=range(10))
    child = view(2, {"product_code": "P1"}, ids=range(5), parent=1)
    newer = view(3, {"product_code": "P1", "category": "理赔"})
    assert lead_for(newer, [lead, child]) == 1  # joined through P1, led by the event wave
    assert lead_for(view(1, {"product_code": "P1"}), [child]) is None  # child is newer


def test_replayed_situations_follow_alert_lifetimes():
    at = T0
    firings = [
        Firing(1, at, at + timedelta(hours=2), {"product_code": "P1"}, frozenset()),
        Firing(2, at, None, {"product_code": "P1", "category": "理赔"}, frozenset()),
        Firing(3, at + timedelta(hours=3), None, {"product_code": "P1"}, frozenset()),
        Firing(4, at, None, {"product_code": "P2"}, frozenset()),
    ]
    # 3 fires after 1 resolved, but 2 (attached to 1) is still active: still 1's situation
    assert situation_ids(firings) == {1: 1, 2: 1, 3: 1, 4: 4}
    alone = [firings[0], Firing(3, at + timedelta(hours=3), None, {"product_code": "P1"},
                                frozenset())]  # fmt: skip
    assert situation_ids(alone) == {1: 1, 3: 3}


def burst_rows(n: int, product: str = "P1", start: datetime = T0) -> list[Row]:
    return [Row(f"{product}-{i}", start + timedelta(minutes=2 * i), product) for i in range(n)]


def test_live_burst_is_one_situation_paged_once_at_its_worst_severity(session):
    ingest_complaints(session, burst_rows(9) + burst_rows(5, "P2"))
    session.commit()
    now = T0 + timedelta(minutes=20)
    evaluate(session, RULES, now)
    session.commit()
    alerts = {(a.rule, a.key["product_code"]): a for a in session.scalars(select(Alert))}
    assert len(alerts) == 6  # every rule keeps its own alert and evidence
    lead = alerts[("product", "P1")]
    assert lead.parent_alert_id is None
    assert alerts[("product-category", "P1")].parent_alert_id == lead.id
    assert alerts[("channel-product", "P1")].parent_alert_id == lead.id
    assert alerts[("product-category", "P2")].parent_alert_id == alerts[("product", "P2")].id
    assert lead.severity == 2  # raised to the product × category alert's Ⅱ级
    kinds = session.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == lead.id)).all()
    assert "severity_raised" in kinds
    plan(session, make_config(), now, "http://radar.local")
    session.commit()
    paged = {n.alert_id for n in session.scalars(select(Notification))}
    assert paged == {lead.id, alerts[("product", "P2")].id}  # one page per situation
    suppressed = session.scalars(
        select(AlertEvent.message).where(AlertEvent.kind == "notify_suppressed")
    ).all()
    assert len(suppressed) == 4 and all(f"#{lead.id}" in m or "同一情况" in m for m in suppressed)


def test_backtest_lines_carry_their_situation(tmp_path):
    rows = [complaint(f"a{i}", T0 + timedelta(minutes=2 * i)) for i in range(9)]
    rows += [complaint(f"b{i}", T0 + timedelta(minutes=3 * i), "P2") for i in range(6)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    for jobs in (1, 2):
        out = io.StringIO()
        run_backtest(frame, RULES, out, progress=False, jobs=jobs)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        by = {(a["rule"], a["key"]["product_code"]): a for a in lines}
        assert len(lines) == 6
        assert len({a["situation"] for a in lines}) == 2
        assert by[("channel-product", "P1")]["situation"] == by[("product", "P1")]["alert"]
        assert [a["alert"] for a in lines] == list(range(1, 7))


def test_the_one_page_of_a_situation_names_its_other_alerts(factory):
    from alerts.notify.dispatch import deliver_due
    from storage.db import session_scope
    from tests.notify.test_dispatch import Recorder

    now = T0 + timedelta(minutes=20)
    with session_scope(factory) as session:
        ingest_complaints(session, burst_rows(9))
    with session_scope(factory) as session:
        evaluate(session, RULES, now)
    config = make_config()
    with session_scope(factory) as session:
        plan(session, config, now, "http://radar.local")
    recorder = Recorder()
    later = now + timedelta(minutes=2)  # past the group wait
    deliver_due(factory, {"log": recorder}, config, later, dashboard_url="http://radar.local")
    with factory() as session:
        ids = {a.rule: a.id for a in session.scalars(select(Alert))}
    [message] = recorder.sent
    text = message.text
    assert "同一情况" in text
    assert f"#{ids['product-category']}" in text and f"#{ids['channel-product']}" in text


def test_acknowledging_the_lead_acknowledges_its_situation(session):
    from alerts.state import actions
    from tests.notify.conftest import add_alert

    now = T0 + timedelta(minutes=30)
    lead = add_alert(session, T0, key={"product_code": "P1"}, fingerprint="lead")

    def member(fingerprint: str, **kw) -> Alert:
        return add_alert(
            session, T0, rule="product-category", key={"product_code": "P1"},
            fingerprint=fingerprint, parent_alert_id=lead.id, **kw,
        )  # fmt: skip

    firing, pending = member("firing"), member("pending", state="pending", fired_at=None)
    done = member("done", state="resolved", resolved_at=T0)
    earlier = member("earlier", state="acknowledged", acknowledged_by="王芳", acknowledged_at=T0)
    other = add_alert(session, T0, key={"product_code": "P2"}, fingerprint="other")
    actions.acknowledge(session, lead.id, "李娜", now, via="短信回复 4821")
    session.commit()
    states = {a.id: (a.state, a.acknowledged_by) for a in session.scalars(select(Alert))}
    assert states == {
        lead.id: ("acknowledged", "李娜"),
        firing.id: ("acknowledged", "李娜"),
        pending.id: ("acknowledged", "李娜"),
        done.id: ("resolved", ""),
        earlier.id: ("acknowledged", "王芳"),  # already someone's: left as it was
        other.id: ("firing", ""),  # another situation
    }
    assert firing.acknowledged_at == now
    trail = session.scalars(
        select(AlertEvent).where(AlertEvent.kind == "acknowledged").order_by(AlertEvent.alert_id)
    ).all()
    assert [(e.alert_id, e.actor, e.from_state) for e in trail] == [
        (lead.id, "李娜", "firing"), (firing.id, "李娜", "firing"), (pending.id, "李娜", "pending"),
    ]  # fmt: skip
    assert trail[1].message == f"告警 #{lead.id} 所在情况，短信回复 4821"


def test_an_alert_joining_an_acknowledged_situation_starts_acknowledged(session):
    from alerts.state import actions

    ingest_complaints(session, burst_rows(9))
    session.commit()
    now = T0 + timedelta(minutes=20)
    first = RulesFile.model_validate({"rules": [RULES.rules[0].model_dump()]})
    evaluate(session, first, now)  # the product rule alone: the situation's lead
    lead = session.scalars(select(Alert)).one()
    actions.acknowledge(session, lead.id, "李娜", now)
    session.commit()
    later = now + timedelta(minutes=1)
    evaluate(session, RULES, later)  # the other rules' alerts join it
    session.commit()
    joined = session.scalars(select(Alert).where(Alert.parent_alert_id == lead.id)).all()
    assert len(joined) == 2
    assert {(a.state, a.acknowledged_by, a.acknowledged_at) for a in joined} == {
        ("acknowledged", "李娜", later)
    }
    said = session.scalars(
        select(AlertEvent).where(AlertEvent.kind == "acknowledged", AlertEvent.alert_id != lead.id)
    ).all()
    assert {(e.actor, e.message) for e in said} == {("system", f"告警 #{lead.id} 所在情况已确认")}
