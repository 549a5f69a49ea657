"""Surge with the key's own level today (gamma-Poisson update) and the shipped surge settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alerts.detect.rules.surge import SurgeEvaluator, local_level
from alerts.detect.stats import nb_normal_scores
from config.loader import load_file
from config.rules import RulesFile, SurgeRule
from config.settings import PROJECT_ROOT
from tests.alerts.detection_helpers import background, complaint, reader_for, replay

START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # midnight Beijing, Monday 3 March 2025
PRODUCTS = {f"P{i}": rate for i, rate in enumerate([60, 40, 20, 10, 5, 2, 1, 0.15, 0.15])}


def shipped(name: str) -> SurgeRule:
    """A surge rule exactly as config/rules.yaml ships it."""
    rules, issues = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    assert rules is not None, issues
    [rule] = [r for r in rules.rules if r.name == name]
    assert isinstance(rule, SurgeRule)
    return rule


def test_local_level_learns_a_busy_key_and_leaves_a_sparse_one_to_its_prior():
    # nothing seen before the window: the baseline stands
    assert local_level(5.0, 0.3, 0, 0.0, 0.05) == pytest.approx((5.0, 0.3))
    # a busy key at half its usual level today: expectation halves, dispersion shrinks
    mu, disp = local_level(10.0, 0.3, 50, 100.0, 0.01)
    assert mu == pytest.approx(10.0 * (1 / 0.3 + 50) / (1 / 0.3 + 100))
    assert mu < 6.0 and disp == pytest.approx(1 / (1 / 0.3 + 50))
    # the floor keeps some within-day over-dispersion however much was seen
    assert local_level(10.0, 0.3, 5000, 5000.0, 0.05)[1] == 0.05


def test_night_burst_on_a_near_zero_baseline_fires():
    rows = background(START, 21, PRODUCTS, seed=4, dispersion=0.25)  # daytime only
    night = START + timedelta(days=20, hours=21)  # 21:00 Beijing, hours after the last complaint
    rows += [complaint(f"n{i}", night + timedelta(minutes=7 * i), "P3") for i in range(7)]
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(shipped("product-surge")), reader, night,
                  night + timedelta(hours=2))  # fmt: skip
    assert hits, "seven complaints in 45 minutes at night on a 10-a-day product must alert"
    first_at, findings = hits[0]
    [finding] = [f for f in findings if f.key == {"product_code": "P3"}]
    assert first_at <= night + timedelta(minutes=50)
    assert {f"n{i}" for i in range(5)} <= set(finding.external_ids)


@pytest.mark.parametrize("name", ["product-surge", "product-category-surge"])
def test_busy_products_over_dispersed_days_do_not_alert(name):
    rows = background(START, 35, PRODUCTS, seed=8, dispersion=0.4)
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(shipped(name)), reader, START + timedelta(days=7),
                  START + timedelta(days=35), step=timedelta(minutes=20))  # fmt: skip
    assert hits == []


def test_moderate_surge_on_a_busy_product_fires_only_with_todays_level():
    # 60 a day between 01 and 10 Beijing: +45 in 90 minutes (+300 % of the usual count)
    # is within the day-to-day spread (dispersion 0.4) but plain against today's own level
    rows = background(START, 21, PRODUCTS, seed=6, dispersion=0.4)
    surge = START + timedelta(days=20, hours=6)  # 06:00 Beijing, mid-way through the day's flow
    rows += [complaint(f"m{i}", surge + timedelta(minutes=2 * i + 30), "P0") for i in range(45)]
    reader = reader_for(rows)
    rule = shipped("product-surge")
    end = surge + timedelta(hours=2)
    hits = replay(SurgeEvaluator(rule), reader, surge, end)
    assert any(f.key == {"product_code": "P0"} for _, fs in hits for f in fs)
    reader = reader_for(rows)
    blind = rule.model_copy(update={"local_level_hours": 0})
    hits = replay(SurgeEvaluator(blind), reader, surge, end)
    assert not any(f.key == {"product_code": "P0"} for _, fs in hits for f in fs)


def test_cusum_scores_are_standard_normal_under_an_over_dispersed_baseline():
    rng = np.random.default_rng(1)
    mu, disp = 20.0, 0.5
    y = rng.negative_binomial(1 / disp, 1 / (1 + disp * mu), size=200_000)
    z = nb_normal_scores(y, np.asarray(mu), disp)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    # the tail that drives a CUSUM: P(z > 3) as for N(0, 1), where (y - m)/sd is 3x too heavy
    assert np.mean(z > 3) == pytest.approx(0.00135, abs=0.0006)
    naive = (y - mu) / np.sqrt(mu + disp * mu**2)
    assert np.mean(naive > 3) > 3 * 0.00135
