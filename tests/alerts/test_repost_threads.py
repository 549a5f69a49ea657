"""Repost threads on a social channel: a thread of seven on a quiet product is what social media
does every week and pages nobody; a real wave on the same product still pages."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from alerts.detect.rules.surge import CLUSTERED, SurgeEvaluator
from alerts.detect.stats import (
    borel_tail_p,
    clustering_of,
    dense_hourly,
    hour_and_day_sums,
    live_days,
    live_days_of_cells,
)
from tests.alerts.detection_helpers import START, background, complaint, reader_for, replay
from tests.alerts.test_detection_local_level import shipped


def test_borel_tail_is_zero_for_single_arrivals_and_heavy_for_threads():
    assert borel_tail_p(7, 0.01, 1.0) == 0.0  # one by one: the NB test alone decides
    n = 0.4  # every complaint prompts 0.4 more: φ = 1/(1 - n)²
    pmf = [math.exp(-n * s) * (n * s) ** (s - 1) / math.factorial(s) for s in range(1, 7)]
    tail = 1 - sum(pmf)  # P(a thread has 7 or more) ≈ 1.5 %
    assert borel_tail_p(7, 0.01, 1 / (1 - n) ** 2) == pytest.approx(
        -math.expm1(-0.01 * (1 - n) * tail), rel=1e-9
    )
    sizes = [borel_tail_p(x, 0.01, 1.84) for x in (6, 8, 12, 20)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < 1e-8


def threads(days: int, seed: int, per_day: float = 0.5, largest: int = 40) -> list[dict]:
    """Office-hours hotline complaints on ten products, and social threads on all of them: a
    Poisson number of threads a day, each a Borel-sized chain of reposts three minutes apart
    (Galton-Watson with Poisson(0.6) children), of at most ``largest``."""
    rng = np.random.default_rng(seed)
    products = {**{f"P{i}": 80.0 / (i + 1) for i in range(9)}, "P9": 0.3}  # P9: a quiet one
    rows = background(START, days, products, seed=seed)
    for d in range(days):
        for product in products:
            for t in range(int(rng.poisson(per_day))):
                at = START + timedelta(days=d, hours=float(rng.uniform(8, 22)))
                size, pending = 0, 1
                while pending and size < largest:
                    pending += int(rng.poisson(0.6)) - 1
                    size += 1
                for i in range(size):
                    cid = f"t{d}-{product}-{t}-{i}"
                    when = at + timedelta(minutes=3 * i)
                    rows.append(complaint(cid, when, product, channel="social"))
    return rows


def product_hits(rows, start, end, product: str) -> list:
    evaluator = SurgeEvaluator(shipped("product-surge"))
    found = replay(evaluator, reader_for(rows), start, end, step=timedelta(minutes=10))
    return [at for at, items in found for f in items if f.key == {"product_code": product}]


def test_a_thread_of_seven_does_not_page_and_a_wave_does():
    at = START + timedelta(days=30, hours=20)
    thread = [
        complaint(f"x{i}", at + timedelta(minutes=6 * i), "P9", channel="social") for i in range(7)
    ]
    window = (at, at + timedelta(hours=2))
    assert product_hits(threads(31, seed=3) + thread, *window, "P9") == []

    wave = [
        complaint(f"w{i}", at + timedelta(minutes=2 * i), "P9", channel="social") for i in range(25)
    ]
    found = product_hits(threads(31, seed=3) + wave, *window, "P9")
    assert found and found[0] <= at + timedelta(minutes=40)


def test_a_product_rule_judges_a_one_channel_thread_by_that_channel():
    at = START + timedelta(days=30, hours=20)
    rows = threads(31, seed=3)
    rows += [
        complaint(f"x{i}", at + timedelta(minutes=i), "P9", channel="social") for i in range(7)
    ]
    rows += [complaint(f"h{i}", at + timedelta(minutes=i), "P8") for i in range(4)]
    rows += [
        complaint(f"s{i}", at + timedelta(minutes=i), "P8", channel="social") for i in range(3)
    ]
    evaluator = SurgeEvaluator(shipped("product-surge"))
    reader = reader_for(rows)
    now = at + timedelta(minutes=30)
    reader.advance(now)
    evaluator.evaluate(reader, now)
    assert "social" in evaluator._thread_channels  # reposts: the social channel is clustered
    assert "hotline" not in evaluator._thread_channels
    since = now - timedelta(hours=1)
    alpha = evaluator.rule.alpha
    assert evaluator._thread_p(reader, ("P9",), since, now, 7, 0.05) > alpha
    assert evaluator._thread_p(reader, ("P8",), since, now, 7, 0.05) == 0.0  # mostly hotline
    assert evaluator._thread_p(reader, ("P9",), since, now, 7, 0.0005) < alpha  # a quiet key


def test_a_thread_is_judged_by_its_channel_also_where_all_channels_look_clustered():
    """Enough social threads make the product rule's own (all-channel) pool look clustered
    (φ ≥ 1.15) too, though far less than the social channel; its own weak cluster tests must
    not replace the social channel's thread test (tuning stream 15: 10 of 31 false alerts)."""
    rows = threads(31, seed=3, per_day=1.0, largest=5)  # no thread of ten in the history
    at = START + timedelta(days=30, hours=20)
    evaluator = SurgeEvaluator(shipped("product-surge"))
    reader = reader_for(rows)
    reader.advance(at)
    evaluator.evaluate(reader, at)
    mixed = evaluator._pool_default[""][2]
    assert CLUSTERED <= mixed < evaluator._thread_channels["social"]
    thread = [
        complaint(f"x{i}", at + timedelta(minutes=6 * i), "P9", channel="social") for i in range(10)
    ]
    assert product_hits(rows + thread, at, at + timedelta(hours=2), "P9") == []


def test_live_days_from_cells_are_the_dense_live_days():
    rng = np.random.default_rng(4)
    hourly = rng.poisson(0.05, (30, 7, 24)) * rng.integers(1, 4, (30, 7, 24))
    shape = rng.dirichlet(np.ones(24), 7)
    rows, bins = np.nonzero(hourly.reshape(30, 7 * 24))
    counts = hourly.reshape(30, 7 * 24)[rows, bins]
    dense, cells = live_days(hourly, shape), live_days_of_cells(rows, bins, counts, shape)
    for name in ("y", "m", "shares", "key"):
        assert np.array_equal(getattr(dense, name), getattr(cells, name)), name
    assert len(dense.key) > 30 and clustering_of(dense) == clustering_of(cells)
    by_hour, by_day = hour_and_day_sums(rows, bins, counts, 30, 7)
    assert np.array_equal(by_hour, hourly.sum(axis=1)) and np.array_equal(
        by_day, hourly.sum(axis=2)
    )
    chosen = np.array([1, 4, 5, 29])
    block = dense_hourly(rows, bins, counts, chosen, 7, extra=1)
    assert np.array_equal(block[:-1], hourly[chosen]) and not block[-1].any()
