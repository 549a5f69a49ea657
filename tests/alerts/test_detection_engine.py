"""The live engine on real databases: lifecycle and audit trail, silences, source_silent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from alerts.state.engine import evaluate
from config.rules import RulesFile
from config.sources import SourcesFile
from domain.records import NormalizedComplaint
from storage.ingest import ingest_complaints
from storage.models import Alert, AlertEvent, Silence, SourceState

RULES = RulesFile.model_validate(
    {
        "rules": [
            {
                "name": "fixed",
                "kind": "threshold",
                "window_minutes": 60,
                "threshold": 3,
                "for_minutes": 10,
                "resolve_after_minutes": 20,
                "escalate": [{"min_count": 6, "severity": 3}],
            }
        ]
    }
)


class Row(NormalizedComplaint):
    """A complaint of source ``s`` with the fields these tests do not vary filled in."""

    def __init__(
        self, cid: str, at: datetime, product: str = "P1", channel: str = "hotline"
    ) -> None:
        super().__init__(
            source="s",
            external_id=cid,
            received_at=at,
            collected_at=at,
            channel=channel,
            product_code=product,
            product_name=product,
            product_line="寿险",
            region="广东",
            category="理赔",
            event_tag="",
            text="x",
            customer_key="",
            branch="",
        )


def add(session, rows) -> None:
    ingest_complaints(session, rows)
    session.commit()


def events_of(session, alert_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AlertEvent.kind).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        )
    )


def test_pending_firing_growth_resolution_and_a_new_alert(session, clock):
    t = clock.now
    add(session, [Row(f"a{i}", t - timedelta(minutes=i)) for i in range(3)])
    evaluate(session, RULES, t)
    [alert] = session.scalars(select(Alert)).all()
    assert alert.state == "pending"
    evaluate(session, RULES, t + timedelta(minutes=10))
    assert alert.state == "firing" and alert.severity == 4
    add(session, [Row(f"b{i}", t + timedelta(minutes=11)) for i in range(6)])
    evaluate(session, RULES, t + timedelta(minutes=12))
    assert alert.severity == 3 and alert.count == 9  # severity rises while it grows
    evaluate(session, RULES, t + timedelta(minutes=80))  # window now empty: below since
    assert alert.state == "firing"
    evaluate(session, RULES, t + timedelta(minutes=101))
    session.commit()
    assert alert.state == "resolved"
    assert events_of(session, alert.id) == [
        "created",
        "fired",
        "updated",
        "severity_raised",
        "resolved",
    ]
    later = t + timedelta(hours=5)
    add(session, [Row(f"c{i}", later) for i in range(3)])
    evaluate(session, RULES, later)
    evaluate(session, RULES, later + timedelta(minutes=10))
    session.commit()
    alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert len(alerts) == 2 and alerts[1].state == "firing"  # a new surge is a new alert


def test_silenced_alerts_are_recorded_but_marked(session, clock):
    t = clock.now
    session.add(Silence(matchers={"product_code": "P1"}, starts_at=t - timedelta(hours=1),
                        ends_at=t + timedelta(hours=1), created_by="duty", comment="known", created_at=t))  # fmt: skip
    add(session, [Row(f"a{i}", t) for i in range(3)])
    evaluate(session, RULES, t)
    session.commit()
    [alert] = session.scalars(select(Alert)).all()
    assert alert.silenced is True


def test_source_silent_fires_and_resolves_when_the_source_delivers(session, clock):
    t = clock.now
    sources = SourcesFile.model_validate(
        {"sources": [{"name": "sim", "kind": "simulator", "silent_after_minutes": 10}]}
    )
    rules = RulesFile.model_validate({"rules": [{"name": "silent", "kind": "source_silent",
                                                 "resolve_after_minutes": 0}]})  # fmt: skip
    session.add(
        SourceState(name="sim", kind="simulator", last_received_at=t - timedelta(minutes=30))
    )
    session.commit()
    evaluate(session, rules, t, sources=sources)
    session.commit()
    [alert] = session.scalars(select(Alert)).all()
    assert alert.state == "firing" and alert.key == {"source": "sim"}
    session.get(SourceState, "sim").last_received_at = t + timedelta(minutes=1)
    evaluate(session, rules, t + timedelta(minutes=2), sources=sources)
    session.commit()
    assert alert.state == "resolved"
