"""A product whose day peaks when the company's does not (an evening app, a lunchtime line)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

import alerts.detect.rules.surge as surge
from alerts.detect.rules.surge import SurgeEvaluator, hour_factors
from tests.alerts.detection_helpers import START, background, complaint, reader_for, replay
from tests.alerts.test_detection_local_level import shipped

OFFICE = np.r_[np.full(9, 0.1), np.full(9, 2.0), np.full(6, 0.3)]
OFFICE = OFFICE / OFFICE.sum()


def counts_with(shape: np.ndarray, per_day: float, days: int = 28, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(per_day * np.tile(shape, (days, 1)))[None, :, :].astype(float)


def test_an_evening_key_is_expected_in_the_evening_and_a_sparse_key_keeps_the_company_shape():
    company = np.tile(OFFICE, (28, 1))
    evening = np.zeros(24)
    evening[19:23] = 1 / 4
    busy_evening = hour_factors(counts_with(evening, 12), company, 60.0)[0]
    assert busy_evening[20] > 5  # office hours expect almost nothing at 20:00
    assert busy_evening[12] < 0.5
    like_company = hour_factors(counts_with(OFFICE, 40, seed=2), company, 60.0)[0]
    assert like_company[9:18] == pytest.approx(np.ones(9), abs=0.1)
    assert like_company == pytest.approx(np.ones(24), abs=0.5)  # night hours are few complaints
    sparse_evening = hour_factors(counts_with(evening, 0.1, seed=3), company, 60.0)[0]
    assert sparse_evening[20] < 2  # two or three complaints say little about its hours


def evening_rows(days: int, per_day: float, seed: int) -> list[dict]:
    """Complaints about one product: half in the company's hours, half from 19:00 to 23:00."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        for i in range(int(rng.poisson(per_day))):
            hours = rng.uniform(1, 10) if rng.random() < 0.5 else rng.uniform(19, 23)
            at = START + timedelta(days=d, hours=float(hours))
            rows.append(complaint(f"E-{d}-{i}", at, "PE"))
    return rows


def stream(days: int) -> list[dict]:
    office = background(START, days, {"P1": 60, "P2": 30, "P3": 15}, seed=7)
    return office + evening_rows(days, 12, seed=8)


def evening_hits(rows: list[dict], start, end) -> list:
    evaluator = SurgeEvaluator(shipped("product-surge"))
    hits = replay(evaluator, reader_for(rows), start, end, step=timedelta(minutes=15))
    return [(at, f) for at, found in hits for f in found if f.key.get("product_code") == "PE"]


def test_an_ordinary_evening_does_not_page_and_an_evening_surge_does(monkeypatch):
    week = (START + timedelta(days=28), START + timedelta(days=35))
    assert evening_hits(stream(35), *week) == []

    surge_at = START + timedelta(days=35, hours=20)
    rows = stream(36) + [
        complaint(f"s{i}", surge_at + timedelta(minutes=i), "PE") for i in range(20)
    ]
    around = (surge_at - timedelta(hours=1), surge_at + timedelta(hours=1))
    found = evening_hits(rows, *around)
    assert found and found[0][0] <= surge_at + timedelta(minutes=30)

    # judged by the company's office hours, its ordinary evenings paged (the thread test off:
    # its evenings, read as bursts of the office shape, would otherwise look like threads)
    monkeypatch.setattr(surge, "borel_tail_p", lambda *_: 0.0)
    assert evening_hits(stream(35), *week) == []
    monkeypatch.setattr(
        surge, "hour_factors_of_sums", lambda by_hour, *_: np.ones((len(by_hour), 24))
    )
    assert evening_hits(stream(35), *week) != []
