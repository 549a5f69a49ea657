"""Data nobody here wrote: bursty channels, a product that is most of the total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from alerts.detect.rules.surge import SurgeEvaluator
from alerts.detect.stats import burst_dispersion, conditional_expected, within_day_dispersion
from tests.alerts.detection_helpers import COLUMNS, background, complaint, reader_for, replay
from tests.alerts.test_detection_local_level import shipped

START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # midnight Beijing, Monday 3 March 2025
SHAPE = np.r_[np.full(8, 0.2), np.full(10, 2.0), np.full(6, 0.8)]
SHAPE = SHAPE / SHAPE.sum()


def hourly_counts(days: int, level: float, burst: float, day_dispersion: float, seed: int):
    """keys=1 × days × 24 counts: a gamma day level, then NB (``burst``) hours around it."""
    rng = np.random.default_rng(seed)
    out = np.zeros((1, days, 24))
    for d in range(days):
        day = level * (rng.gamma(1 / day_dispersion, day_dispersion) if day_dispersion else 1)
        mean = day * SHAPE
        if burst:
            mean = mean * rng.gamma(1 / burst, burst, 24)
        out[0, d] = rng.poisson(mean)
    return out


def test_within_day_dispersion_sees_bursts_not_busy_days():
    shape = np.tile(SHAPE, (28, 1))
    calm = within_day_dispersion(hourly_counts(28, 200, 0.0, 0.3, 1), shape)
    bursty = within_day_dispersion(hourly_counts(28, 200, 0.5, 0.3, 2), shape)
    assert calm[0] < 0.02  # busy and quiet days, Poisson within each: no burstiness
    assert 0.35 < bursty[0] < 0.65  # the 0.5 it was made with
    six = within_day_dispersion(hourly_counts(28, 200, 0.5, 0.3, 2), shape, hours=6)
    assert six[0] < bursty[0] / 2  # independent hours average out over six of them


def test_burst_dispersion_is_a_power_law_through_the_hour_and_six_hours():
    assert burst_dispersion(0.2, 0.2 / 6, 6.0) == pytest.approx(0.2 / 6)  # exponent 1
    assert burst_dispersion(0.2, 0.2 / 6, 0.5) == pytest.approx(0.4)  # a half hour
    # a wave that lasts hours decays slower: exponent from the two scales, at least 0.3
    assert burst_dispersion(0.2, 0.1, 6.0) == pytest.approx(0.1)
    assert burst_dispersion(0.2, 0.2, 6.0) == pytest.approx(0.2 * 6**-0.3)
    assert burst_dispersion(0.0, 0.0, 0.5) == 0.0


def test_a_window_whose_expectation_is_one_busy_hour_counts_as_one_hour():
    evaluator = SurgeEvaluator(shipped("product-surge"))
    night, busy = [0.1] * 12, [5.0] * 12
    evaluator._cum_list = np.concatenate([[0.0], np.cumsum(night * 3 + busy)]).tolist()
    assert evaluator._window_hours(0, 48) == pytest.approx(63.6**2 / (3 * 1.2**2 + 60**2))
    evaluator._cum_list = np.concatenate([[0.0], np.cumsum(busy * 4)]).tolist()
    assert evaluator._window_hours(0, 48) == pytest.approx(4.0)
    assert evaluator._window_hours(0, 6) == 0.5


def test_a_key_that_is_most_of_the_total_expects_its_own_mean():
    others = np.array([0.0, 3.0])
    assert conditional_expected(1.0, others, 40.0).tolist() == [40.0, 40.0]
    assert conditional_expected(0.2, others, 40.0).tolist() == [0.0, 0.75]


def one_product_rows(days: int, per_day: float, seed: int) -> list[dict]:
    return background(START, days, {"P1": per_day}, seed=seed, dispersion=0.1)


def test_a_one_product_stream_alerts_on_its_surge_and_not_before():
    rows = one_product_rows(30, 40, seed=5)
    surge_at = START + timedelta(days=29, hours=3)  # 11:00 Beijing
    rows += [complaint(f"s{i}", surge_at + timedelta(minutes=i), "P1") for i in range(40)]
    evaluator = SurgeEvaluator(shipped("product-surge"))
    hits = replay(
        evaluator, reader_for(rows), START + timedelta(days=10), START + timedelta(days=30)
    )
    assert hits, "a 40-complaint burst on a 40-a-day product must alert"
    first = hits[0][0]
    # before the fix the CUSUM expected 0 for a key that is the whole total and fired at once
    assert surge_at <= first <= surge_at + timedelta(minutes=45)


SOCIAL_START = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)  # 3 June to 9 July 2025: no holiday


def social_rows(days: int, seed: int) -> list[dict]:
    """A bursty social channel: 5-minute counts around a day cycle with hour-long waves."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        day = SOCIAL_START + timedelta(days=d)
        for h in range(24):
            wave = rng.gamma(1 / 0.4, 0.4)  # an hour at 0.1x .. 4x its usual level
            for b in range(12):
                at = day + timedelta(hours=h, minutes=5 * b)
                for i in range(int(rng.poisson(3 * 24 * SHAPE[h] * wave))):
                    rows.append(complaint(f"t{d}-{h}-{b}-{i}", at, "P1", channel="social"))
    return rows


def test_bursty_social_channel_pages_on_a_real_wave_not_on_its_ordinary_ones():
    rows = social_rows(36, seed=8)
    evaluator = SurgeEvaluator(shipped("product-surge"))
    quiet = replay(evaluator, reader_for(rows), SOCIAL_START + timedelta(days=29),
                   SOCIAL_START + timedelta(days=36), step=timedelta(minutes=15))  # fmt: skip
    assert quiet == []  # a week of ordinary waves up to 4x: no page
    wave_at = SOCIAL_START + timedelta(days=36, hours=4)
    rows += [complaint(f"w{i}", wave_at + timedelta(seconds=20 * i), "P1", channel="social")
             for i in range(300)]  # fmt: skip
    rows += social_rows(37, seed=8)[-2000:]
    frame = pd.DataFrame(rows, columns=COLUMNS).drop_duplicates("id")
    evaluator = SurgeEvaluator(shipped("product-surge"))
    hits = replay(evaluator, reader_for(frame.to_dict("records")), wave_at - timedelta(hours=1),
                  wave_at + timedelta(hours=2), step=timedelta(minutes=5))  # fmt: skip
    assert hits and hits[0][0] <= wave_at + timedelta(minutes=30)


def test_burst_tail_is_heavier_than_the_gamma_for_bursty_keys_only():
    from alerts.detect.rules.surge import burst_tail_p, nb_upper_p_scalar

    # a social key (burst 0.3) at 4x its level in a half hour: ordinary for it
    tail = burst_tail_p(116, 26.3, 0.3)
    assert tail > 1e-4 and tail > 3 * nb_upper_p_scalar(116, 26.3, 0.3)
    # twelve times its level is not, whatever the tail
    assert burst_tail_p(692, 58.6, 0.3) < 1e-6
    # a hotline key has no burst part: the NB test alone decides
    assert burst_tail_p(40, 10.0, 0.0) == 0.0
    assert burst_tail_p(5, 10.0, 0.3) == 0.0  # below the expectation


def clustered_hourly(days: int, per_day: float, mean_cluster: float, seed: int) -> np.ndarray:
    """keys=40 sparse keys: complaints arrive in clusters of geometric size (mean given)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((40, days, 24))
    for k in range(40):
        for d in range(days):
            clusters = rng.poisson(per_day / mean_cluster * SHAPE)
            for h in np.flatnonzero(clusters):
                out[k, d, h] = rng.geometric(1 / mean_cluster, clusters[h]).sum()
    return out


def test_clustering_index_is_one_for_single_arrivals_and_grows_with_clusters():
    from alerts.detect.stats import clustering_index

    shape = np.tile(SHAPE, (28, 1))
    single = clustering_index(clustered_hourly(28, 3, 1.0, 4), shape)
    assert 0.95 <= single <= 1.1
    clustered = clustering_index(clustered_hourly(28, 3, 2.5, 5), shape)
    # geometric clusters of mean 2.5: variance / mean = E[S^2] / E[S] = 2 * 2.5 - 1 = 4
    assert 2.5 < clustered < 5.0
    assert clustering_index(np.zeros((3, 28, 24)), shape) == 1.0  # nothing to tell


def test_a_cluster_on_a_sparse_social_key_pages_only_where_clusters_are_unusual():
    rule = shipped("channel-product-surge")
    rows = []
    for channel, mean_cluster in (("social", 3.0), ("hotline", 1.0)):
        rng = np.random.default_rng(7)
        for p in range(30):
            for d in range(28):
                for h in np.flatnonzero(rng.poisson(0.4 / mean_cluster * SHAPE)):
                    at = SOCIAL_START + timedelta(
                        days=d, hours=int(h), minutes=int(rng.integers(50))
                    )
                    size = rng.geometric(1 / mean_cluster)
                    rows += [complaint(f"{channel}{p}-{d}-{h}-{i}", at + timedelta(seconds=20 * i),
                                       f"P{p}", channel=channel) for i in range(size)]  # fmt: skip
    burst_at = SOCIAL_START + timedelta(days=28, hours=3)  # 11:00 Beijing
    for channel in ("social", "hotline"):
        rows += [complaint(f"b{channel}{i}", burst_at + timedelta(minutes=2 * i), "P99",
                           channel=channel) for i in range(7)]  # fmt: skip
    hits = replay(SurgeEvaluator(rule), reader_for(rows), burst_at, burst_at + timedelta(hours=1))
    keys = {tuple(f.key.items()) for _, found in hits for f in found}
    assert (("channel", "hotline"), ("product_code", "P99")) in keys
    assert (("channel", "social"), ("product_code", "P99")) not in keys
