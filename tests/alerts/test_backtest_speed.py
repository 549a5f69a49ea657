"""The backtest's speed-ups change no result: split replays, scalar NB tails, binned series."""

from __future__ import annotations

import gc
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from alerts.backtest.replay import few_collections, rule_weight, run_backtest, share_rules
from alerts.detect.memory_reader import MemoryReader
from alerts.detect.rules.surge import nb_upper_p_scalar
from alerts.detect.stats import (
    MAX_CLUSTERING,
    OUTBREAK_RESIDUAL,
    anscombe_residuals,
    clustering_index,
    clustering_of,
    live_days,
    nb_upper_p,
    quiet_hour_counts,
)
from config.rules import RulesFile

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
RULES = RulesFile.model_validate(
    {
        "rules": [
            {"name": "p", "kind": "surge", "group_by": ["product_code"], "min_count": 4,
             "windows_minutes": [30, 120], "local_level_hours": 6, "min_history_days": 2},
            {"name": "t", "kind": "threshold", "group_by": ["product_code"],
             "window_minutes": 60, "threshold": 6, "resolve_after_minutes": 30},
            {"name": "r", "kind": "surge", "group_by": ["product_code", "region"],
             "min_count": 3, "windows_minutes": [60], "cusum": False, "min_history_days": 2},
            {"name": "e", "kind": "event", "window_minutes": 120, "min_count": 4,
             "keywords": {"退保": ["退保"]}},
            {"name": "c", "kind": "copied_text", "window_minutes": 240, "min_size": 4,
             "min_spread": 1, "history_days": 1},
        ]
    }
)  # fmt: skip


def stream(seed: int, days: int = 5) -> pd.DataFrame:
    """A background of random complaints with bursts: several rules fire at the same ticks."""
    rng = np.random.default_rng(seed)
    n = 150 * days
    times = [T0 + timedelta(minutes=int(m)) for m in rng.integers(0, days * 1440, n)]
    products = rng.choice(["P1", "P2", "P3", "P4"], n).tolist()
    texts = [f"客户{i}反映服务问题编号" + "甲乙丙丁"[i % 4] * (i % 7) for i in range(n)]
    for b in range(6):  # bursts with one copied text each, on one product
        at = T0 + timedelta(days=2, hours=5 * b)
        for k in range(12):
            times.append(at + timedelta(minutes=2 * k))
            products.append(f"P{b % 4 + 1}")
            texts.append(f"我要求集体退保，保险公司销售误导，请尽快处理{b}")
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(len(times))],
            "received_at": times,
            "product_code": products,
            "region": rng.choice(["广东", "浙江"], len(times)),
            "channel": rng.choice(["hotline", "web"], len(times)),
            "text": texts,
        }
    )


@pytest.mark.parametrize("jobs", [2, 3, 9])
def test_split_replay_writes_exactly_the_single_process_lines(jobs):
    data = stream(seed=21)
    one, split = io.StringIO(), io.StringIO()
    a = run_backtest(data, RULES, one, progress=False, jobs=1)
    b = run_backtest(data, RULES, split, progress=False, jobs=jobs)
    assert one.getvalue() and one.getvalue() == split.getvalue()
    assert len({line.split('"rule": ')[1][:3] for line in one.getvalue().splitlines()}) >= 3
    assert a.fired == b.fired and a.failed_rules == b.failed_rules == {}
    assert a.ticks == b.ticks


def test_rules_are_shared_by_weight_in_rule_order():
    weights = [rule_weight(r) for r in RULES.rules]
    groups = share_rules(len(weights), weights, 2)
    assert sorted(i for g in groups for i in g) == list(range(len(weights)))
    assert all(g == sorted(g) for g in groups) and len(groups) == 2
    assert share_rules(2, [1.0, 1.0], 5) == [[0], [1]]
    assert share_rules(3, [1.0, 1.0, 1.0], 1) == [[0, 1, 2]]
    # a filtered rule counts a fraction of the rows, so it weighs less than its unfiltered self
    region = RulesFile.model_validate({"rules": [
        {"name": "r", "kind": "surge", "group_by": ["product_code", "region"]},
        {"name": "s", "kind": "surge", "group_by": ["product_code", "region"],
         "filters": {"category": ["销售"]}},
    ]}).rules  # fmt: skip
    assert rule_weight(region[1]) < rule_weight(region[0]) / 2


def test_scalar_nb_tail_is_the_array_tail_exactly():
    rng = np.random.default_rng(5)
    x = np.concatenate([[0.0, 1.0, 2.0], rng.integers(0, 200, 3000).astype(float)])
    mu = np.concatenate([[0.0, 1e-12, 3.0], rng.gamma(1.0, 20.0, 3000)])
    disp = np.concatenate([[0.0, 5e-7, 1e-9], rng.choice([0.0, 1e-7, 0.05, 0.1, 0.7, 3.0], 3000)])
    disp[3:] *= rng.uniform(0.5, 1.5, 3000)
    expected = nb_upper_p(x, mu, disp).tolist()
    got = [
        nb_upper_p_scalar(float(a), float(m), float(d)) for a, m, d in zip(x, mu, disp, strict=True)
    ]
    assert got == expected  # exactly, not approximately
    assert all(type(p) is float for p in got)


def dense_clustering(hourly, shape):
    """The quiet-hour figures over every key-day, empty ones too: the reference."""
    y = np.asarray(hourly, dtype=float)
    m = y.sum(axis=2, keepdims=True) * shape[None, :, :]
    quiet = (m > 0) & (m < 1.0) & (anscombe_residuals(y, m) <= OUTBREAK_RESIDUAL)
    variance = (m * (1.0 - shape[None, :, :]))[quiet]
    sizes = np.sort(y[(m > 0) & (m < 1.0) & (y > 0)])
    if variance.sum() < 30.0:
        return 1.0, sizes
    phi = float(((y - m) ** 2)[quiet].sum() / variance.sum())
    return min(max(phi, 1.0), MAX_CLUSTERING), sizes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clustering_from_live_key_days_is_the_dense_figure_exactly(seed):
    rng = np.random.default_rng(seed)
    keys, days = 60, 28
    rate = rng.gamma(0.5, 2.0, keys)[:, None, None] * rng.dirichlet(np.ones(24), days)[None]
    hourly = rng.poisson(rate * rng.choice([1, 1, 1, 8], (keys, days, 1)))  # some bursty days
    hourly[rng.integers(0, keys), rng.integers(0, days), 3] += 40  # one blatant outlier
    shape = rng.dirichlet(np.ones(24) * 5, days)
    phi, sizes = dense_clustering(hourly, shape)
    assert phi > 1.0 and len(sizes) > 30  # a case where the figures mean something
    assert clustering_index(hourly, shape) == phi  # exactly, not approximately
    assert np.array_equal(quiet_hour_counts(hourly, shape), sizes)
    channel = rng.integers(0, 3, keys)  # one pass, then split by key (the thread channels)
    found = live_days(hourly, shape)
    for c in range(3):
        assert (
            clustering_of(found.select(channel[found.key] == c))
            == dense_clustering(hourly[channel == c], shape)[0]
        )
    assert clustering_index(np.zeros((3, days, 24), dtype=np.int64), shape) == 1.0


def plain_series(reader: MemoryReader, dims, since, until, step, filters=None):
    """The previous binning (np.unique over the window's codes): the reference."""
    step_ns = step * 60 * 1_000_000_000
    n_bins = max(1, -(-(int(until.timestamp()) - int(since.timestamp())) * 10**9 // step_ns))
    lo, hi = reader._slice(since, until)
    codes, rows, labels = reader._codes_in(dims, lo, hi, filters)
    if len(codes) == 0:
        return [], np.zeros((0, n_bins), dtype=np.int64)
    bins = (reader.times[rows] - int(since.timestamp()) * 10**9) // step_ns
    present, inverse = np.unique(codes, return_inverse=True)
    flat = np.bincount(inverse * n_bins + bins, minlength=len(present) * n_bins)
    return [labels[i] for i in present], flat.reshape(len(present), n_bins)


def test_series_equals_the_sorted_binning():
    data = stream(seed=3, days=3)
    reader = MemoryReader(data)
    reader.advance(T0 + timedelta(days=2, hours=7))
    for dims, filters in [(["product_code"], None), (["product_code", "region"], None),
                          ([], None), (["region"], {"product_code": ["P2"]}),
                          (["channel"], {"product_code": ["nope"]})]:  # fmt: skip
        for since, until, step in [(T0, T0 + timedelta(days=2), 1440),
                                   (T0 + timedelta(hours=3), T0 + timedelta(days=3), 60)]:  # fmt: skip
            keys, got = reader.series(dims, since, until, step, filters)
            ref_keys, ref = plain_series(reader, dims, since, until, step, filters)
            assert keys == ref_keys
            assert got.dtype == ref.dtype and np.array_equal(got, ref)


def test_the_replay_leaves_the_collector_as_it_found_it():
    before = gc.get_threshold()
    with few_collections():
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(ValueError), few_collections():
        raise ValueError("a failing replay")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
