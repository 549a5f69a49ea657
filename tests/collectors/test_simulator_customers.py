"""The demo's simulator has returning customers: its campaign's complainants come back on other
channels, so the weekly report's repeat and multi-channel figures are not 0 of thousands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collectors.normalize import normalize
from collectors.simulator import SimulatorCollector, pool_phone, returning_customer
from config.models import SimulatorSource
from dashboard import queries
from tests.dashboard.seed import ingest


def test_returning_customers_are_chosen_from_the_id_alone():
    ids = [f"sim-{i}-{i % 7}" for i in range(20_000)]
    share = sum(returning_customer(i, 0.08) for i in ids) / len(ids)
    assert 0.07 < share < 0.09
    assert pool_phone("CAR-001", "sim-1-0") == pool_phone("CAR-001", "sim-1-0")
    phones = {pool_phone("CAR-001", i) for i in ids}
    assert len(phones) == 40 and all(len(p) == 11 and p.startswith("139") for p in phones)


def test_a_campaign_brings_repeat_and_multichannel_complaints(engine):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    source = SimulatorSource(
        name="simulator", kind="simulator", rate_per_day=3000, backfill_hours=6,
        event_every_minutes=600, first_event_after_minutes=0,
    )  # fmt: skip
    simulator = SimulatorCollector(source)
    first = simulator.fetch("", now)  # six hours of history; the first event starts now
    later = now + timedelta(hours=1)
    raws = first.records + simulator.fetch(first.cursor, later).records
    records = [normalize(raw, "simulator", later) for raw in raws]
    campaign = [r for r in records if "-e" in r.external_id]
    assert len(campaign) >= 40, "the first injected event starts at once"
    ingest(engine, records)
    stats = queries.repeat_stats(engine, now - timedelta(days=1), now + timedelta(hours=2))
    assert stats.total == len(records)
    assert stats.repeat > len(campaign) // 4
    assert stats.multichannel > len(campaign) // 4
    assert stats.repeat < stats.total // 2  # most background complaints are first ones
