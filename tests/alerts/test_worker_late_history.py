"""The worker refits the surge baseline when a source delivers complaints of past days."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.normalize import normalize
from config.loader import load_config
from storage.ingest import ingest_complaints
from storage.models import Alert
from tests.alerts.detection_helpers import AFTER, FIT, LATE, late_history_rows
from tests.reliability.helpers import ComplaintApi
from tests.reliability.scenario import radar_config
from worker.context import WorkerContext
from worker.main import tick


def test_a_source_back_with_weeks_of_history_refits_the_baseline(engine, clock, tmp_path):
    """At FIT the baseline has never seen the late source's product; three hours later the
    source delivers its 29 days. Its ordinary day is then no surge: the evaluation saw in the
    database that complaints of past days were stored since its last tick, and refitted the
    baseline instead of keeping the morning's until midnight."""
    everything, early = late_history_rows()
    with Session(engine) as session:  # the other sources' history, stored long ago
        ingest_complaints(session, [normalize(r, "others", AFTER) for r in early])
        session.commit()
    api = ComplaintApi()
    source = {"name": "late", "kind": "http_api", "url": f"{api.base}/c", "records_path": "items"}
    rules = [{"name": "surge", "kind": "surge"}]
    config = load_config(radar_config(tmp_path / "config", [source], rules=rules))
    clock.now = FIT
    ctx = WorkerContext(config=config, engine=engine, clock=clock)
    try:
        tick(ctx)  # the late source has nothing yet: the day's baseline is fitted without it
        api.add(
            [
                {**r, "received_at": r["received_at"].isoformat()}
                for r in everything
                if r["product_code"] == LATE and r["received_at"] <= AFTER
            ]
        )
        clock.now = AFTER
        tick(ctx)
    finally:
        api.close()
    with Session(engine) as session:
        keys = [alert.key for alert in session.scalars(select(Alert))]
    assert ctx.stats["collect:late"] > 500  # the 29 days arrived in this tick
    assert {"product_code": LATE} not in keys
