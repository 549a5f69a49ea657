"""Worker ticks against the simulator: an injected group event becomes one alert, notified once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from collectors.normalize import normalize
from collectors.simulator import SimulatorCollector
from config.loader import RadarConfig
from config.models import ChannelsFile, RosterFile, RulesFile, SourcesFile
from domain.states import AlertState
from storage.ingest import ingest_complaints
from storage.models import Alert, AlertEvent, Complaint, Notification, SourceState, WorkerHeartbeat
from worker.context import WorkerContext
from worker.main import collect_job, tick


def make_config() -> RadarConfig:
    return RadarConfig(
        sources=SourcesFile.model_validate(
            {
                "sources": [
                    {
                        "name": "sim",
                        "kind": "simulator",
                        "backfill_hours": 3,
                        "first_event_after_minutes": 1,
                        "event_every_minutes": 600,
                    }
                ]
            }
        ),
        rules=RulesFile.model_validate(
            {
                "rules": [
                    {
                        "name": "product-threshold",
                        "kind": "threshold",
                        "threshold": 12,
                        "window_minutes": 60,
                    }
                ]
            }
        ),
        roster=RosterFile.model_validate(
            {"people": [{"id": "duty", "name": "值班员"}], "default_receiver": "duty"}
        ),
        channels=ChannelsFile.model_validate(
            {"channels": [{"name": "log", "kind": "log"}], "default_channel": "log"}
        ),
    )


def test_injected_event_becomes_one_alert_and_one_notification(engine, clock):
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    simulator = ctx.collectors["sim"]
    assert isinstance(simulator, SimulatorCollector)
    anchor = clock.now.replace(second=0, microsecond=0)
    events = simulator.events_between(anchor, anchor, anchor + timedelta(hours=1))
    [event] = [e for e in events if e.index == 0]
    tick(ctx)
    for _ in range(40):
        clock.advance(minutes=1)
        tick(ctx)
    with ctx.factory() as session:
        alerts = [
            a
            for a in session.scalars(select(Alert))
            if a.key == {"product_code": event.product.code}
        ]
        assert len(alerts) == 1, "one alert per fingerprint, not one per tick"
        alert = alerts[0]
        assert alert.state == AlertState.FIRING
        assert alert.count >= 12 and len(alert.evidence["complaint_ids"]) == alert.count
        kinds = session.scalars(
            select(AlertEvent.kind).where(AlertEvent.alert_id == alert.id)
        ).all()
        assert kinds[:2] == ["created", "fired"]
        sent = session.scalars(select(Notification).where(Notification.alert_id == alert.id)).all()
        assert [(n.status, n.receiver) for n in sent] == [("sent", "duty")]
        assert session.get(WorkerHeartbeat, ctx.name) is not None


def test_collecting_the_same_window_twice_stores_nothing_twice(engine, clock):
    ctx = WorkerContext(config=make_config(), engine=engine, clock=clock)
    collect_job(ctx, "sim")
    with ctx.factory() as session:
        stored = session.scalars(select(func.count()).select_from(Complaint)).one()
        cursor_state = session.scalar(select(SourceState.cursor))
    assert stored > 0
    # A crash before the cursor commit means the same window is fetched again.
    restarted = WorkerContext(config=make_config(), engine=engine, clock=clock)
    batch = restarted.collectors["sim"].fetch("", clock.now)
    with ctx.factory() as session:
        result = ingest_complaints(session, [normalize(r, "sim", clock.now) for r in batch.records])
        session.commit()
        assert result.inserted == 0
        assert session.scalar(select(func.count()).select_from(Complaint)) == stored
    assert cursor_state
