from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from collectors.normalize import normalize
from collectors.simulator import (
    SPRING_FESTIVAL_FACTOR,
    SimulatorCollector,
    day_factor,
    product_catalogue,
)
from config.models import SimulatorSource
from domain.vocabulary import CATEGORIES, PRODUCT_LINES, PROVINCES

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def simulator(**overrides) -> SimulatorCollector:
    return SimulatorCollector(SimulatorSource(name="sim", kind="simulator", **overrides))


def test_catalogue_has_about_200_products_in_real_lines():
    products = product_catalogue()
    assert 180 <= len(products) <= 260
    assert {p.line for p in products} == set(PRODUCT_LINES)
    assert len({p.code for p in products}) == len(products)


def test_same_window_gives_the_same_records():
    first = simulator().fetch("", NOW)
    second = simulator().fetch("", NOW)
    assert [r["id"] for r in first.records] == [r["id"] for r in second.records]
    assert len({r["id"] for r in first.records}) == len(first.records)


def test_cursor_continues_without_gaps_or_overlap():
    sim = simulator(backfill_hours=2)
    first = sim.fetch("", NOW)
    later = sim.fetch(first.cursor, NOW + timedelta(minutes=30))
    assert not first.has_more and not later.has_more
    assert not {r["id"] for r in first.records} & {r["id"] for r in later.records}
    assert json.loads(later.cursor)["until"] == (NOW + timedelta(minutes=30)).isoformat()
    times = [datetime.fromisoformat(r["received_at"]) for r in later.records]
    assert all(NOW <= t < NOW + timedelta(minutes=30) for t in times)


def test_long_backfill_is_split_into_batches():
    batch = simulator(backfill_hours=72).fetch("", NOW)
    assert batch.has_more


def test_records_are_valid_and_cover_the_vocabularies():
    records = simulator(backfill_hours=48).fetch("", NOW).records
    normalized = [normalize(r, "sim", NOW) for r in records]
    assert {c.category for c in normalized} <= set(CATEGORIES)
    assert {c.region for c in normalized} <= set(PROVINCES)
    assert {"hotline", "web", "social"} <= {c.channel for c in normalized}
    assert all(c.customer_key for c in normalized)
    raw_phones = [r["customer_phone"] for r in records]
    assert not any(p in c.text for p, c in zip(raw_phones, normalized, strict=True))


def test_nights_are_quieter_than_mornings():
    records = simulator(backfill_hours=24 * 7, event_every_minutes=100000).fetch("", NOW).records
    hours = Counter(datetime.fromisoformat(r["received_at"]).hour for r in records)
    assert hours[10] > 5 * hours[3]


def test_spring_festival_and_make_up_workdays():
    assert day_factor(date(2026, 2, 17)) == SPRING_FESTIVAL_FACTOR  # 初一
    assert day_factor(date(2026, 2, 28)) > day_factor(date(2026, 3, 1))  # 调休 Saturday vs Sunday
    assert day_factor(date(2027, 3, 1)) > 0  # beyond the holiday library: weekday pattern


def test_first_injected_event_starts_right_after_the_anchor():
    sim = simulator(first_event_after_minutes=1)
    events = sim.events_between(NOW, NOW, NOW + timedelta(hours=1))
    first = next(e for e in events if e.index == 0)
    assert first.start == NOW + timedelta(minutes=1)
    batch = sim.fetch(
        json.dumps({"anchor": NOW.isoformat(), "until": NOW.isoformat()}),
        NOW + timedelta(minutes=15),
    )
    burst = [r for r in batch.records if "-e0-" in r["id"]]
    assert len(burst) >= 12
    assert {r["product_code"] for r in burst} == {first.product.code}
