"""Day levels that persist, and a short history: how much is known about today's level."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.detect.stats import (
    OUTBREAK_RESIDUAL,
    Baseline,
    day_persistence,
    fit_baseline,
    predictive,
)


def days(rho: float, seed: int, keys: int = 30, n: int = 28, mean: float = 40.0) -> np.ndarray:
    """keys × days Poisson counts around gamma-ish day levels whose logs are AR(1) with ``rho``."""
    rng = np.random.default_rng(seed)
    log_level = np.zeros((keys, n))
    log_level[:, 0] = rng.normal(0, 0.4, keys)
    for t in range(1, n):
        log_level[:, t] = rho * log_level[:, t - 1] + rng.normal(0, 0.4 * np.sqrt(1 - rho**2), keys)
    return rng.poisson(mean * np.exp(log_level)).astype(float)


def carry_of(y: np.ndarray) -> np.ndarray:
    totals = y.sum(axis=0)
    return day_persistence(y, totals, fit_baseline(y, totals))


def test_independent_days_change_nothing():
    out = carry_of(days(0.0, seed=1))
    assert np.allclose(out[:, 1], 1.0) or out[0, 1] > 0.97  # ρ ≈ 0: at most a trace
    assert np.all(np.abs(np.log(out[:, 0])) < 0.1)


def test_persistent_days_carry_yesterday_towards_today():
    y = days(0.8, seed=2)
    out = carry_of(y)
    factor = out[0, 1]
    assert 0.2 < factor < 0.8, "with persistent levels the day-to-day spread must shrink"
    totals = y.sum(axis=0)
    ratio = y[:, -1] / (totals[-1] / totals.sum() * y.sum(axis=1))
    high, low = int(np.argmax(ratio)), int(np.argmin(ratio))
    assert out[high, 0] > 1.1 and out[low, 0] < 0.9, "a busy yesterday raises today's centre"


def test_an_outbreak_yesterday_is_not_carried():
    y = days(0.8, seed=3)
    y[5, -1] = y[5].mean() * 10  # a blatant event on key 5 yesterday
    out = carry_of(y)
    assert out[5, 0] == 1.0 and out[5, 1] == 1.0
    assert OUTBREAK_RESIDUAL > 0


def test_short_history_changes_nothing():
    y = days(0.8, seed=4, n=5)
    assert np.all(carry_of(y) == 1.0)


def test_the_surge_expectation_starts_the_day_from_the_carried_level():
    from alerts.detect.rules.surge import SurgeEvaluator
    from alerts.detect.stats import Baseline
    from config.rules import SurgeRule

    evaluator = SurgeEvaluator(SurgeRule(name="s", kind="surge", local_dispersion=0.01))
    shares, dispersion = np.array([0.1]), np.array([0.25])
    evaluator._base = Baseline(shares, dispersion, 0.25, 1e-4, 28)
    evaluator._shares, evaluator._dispersions = shares.tolist(), dispersion.tolist()
    rows: list[int | None] = [0]
    args = (rows, [900], 1000.0, [10.0], [0], [0.0], 720)
    [mu0], [disp0] = evaluator._expected_scalar(*args, [(1.0, 1.0)])
    [mu1], [disp1] = evaluator._expected_scalar(*args, [(1.5, 0.5)])
    assert mu1 == pytest.approx(1.5 * mu0), "no count yet today: yesterday's level is the centre"
    assert disp1 == pytest.approx(0.5 * disp0), "and the day's level is known better"


def test_a_short_history_widens_the_day_level_as_a_prediction_does():
    base = Baseline(np.array([0.1, 0.2]), np.array([0.2, 0.4]), 0.3, 1e-4, 4)
    wide = predictive(base)
    assert wide.dispersion.tolist() == pytest.approx([0.2 * 5 / 3, 0.4 * 5 / 3])
    assert wide.pooled_dispersion == pytest.approx(0.5)
    assert wide.shares.tolist() == base.shares.tolist()
    month = predictive(Baseline(np.array([0.1]), np.array([0.2]), 0.3, 1e-4, 28))
    assert month.dispersion[0] == pytest.approx(0.2 * 29 / 27)


def test_four_days_of_history_predict_the_day_level_spread_without_bias():
    """Gamma day levels (a = 0.3) on 3,000 like keys, four days of history: the moment estimate
    around the shares fitted on those days is a·3/4; as a prediction for a new day it must be
    about a(1 + 1/4), or the first week of a new deployment pages on ordinary days."""
    rng = np.random.default_rng(1)
    keys, days, a = 3000, 4, 0.3
    y = rng.poisson(200.0 * rng.gamma(1 / a, a, size=(keys, days)))
    base = predictive(fit_baseline(y, y.sum(axis=0)))
    assert base.pooled_dispersion == pytest.approx(a * (1 + 1 / days), rel=0.12)


def test_a_share_read_from_few_complaints_widens_the_day_level():
    """Eight complaints in four days say the share to within a third; eight hundred to 4 %."""
    shares, a = np.array([0.002, 0.2]), np.array([0.2, 0.2])
    base = predictive(Baseline(shares, a, 0.2, 1e-4, 4, mean_total=1000.0))
    seen = shares * 1000.0 * 4  # 8 and 800 complaints
    assert base.dispersion.tolist() == pytest.approx((0.2 * 5 / 3 + 1 / (seen + 1)).tolist())
    assert base.dispersion[0] > 0.2 * 5 / 3 + 0.1 > base.dispersion[1]
