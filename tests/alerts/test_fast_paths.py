"""The fast paths give exactly what the plain ones give: signatures, key counts, cusum prefilter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash

from alerts.detect.memory_reader import MemoryReader
from alerts.detect.rules import text_signatures
from alerts.detect.rules.copied_text import normalise, shingles
from alerts.detect.rules.surge import local_level, local_level_array
from alerts.detect.rules.text_signatures import SignatureMaker

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
WORDS = "理赔退保销售误导客服电话没人接保费上涨请尽快处理要求赔偿损失"


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(WORDS) for _ in range(rng.randint(0, 80))) for _ in range(n)]


def datasketch_signature(shingle_set: set[str], num_perm: int) -> np.ndarray:
    mh = MinHash(num_perm=num_perm, seed=1)
    mh.update_batch([s.encode("utf-8") for s in shingle_set])
    return mh.hashvalues


@pytest.mark.parametrize("num_perm", [16, 64, 128])
def test_bulk_signatures_equal_datasketch_bit_for_bit(num_perm, monkeypatch):
    # small chunks so that texts straddle the chunk boundaries too
    monkeypatch.setattr(text_signatures, "SHINGLES_PER_CHUNK", 97)
    sets = [shingles(normalise(t), 3) for t in random_texts(300, seed=num_perm)]
    assert any(not s for s in sets), "the sample should hold an empty text"
    maker = SignatureMaker(num_perm)
    ours = maker.signatures(sets)
    again = maker.signatures(sets)  # the second pass comes from the shingle-hash cache
    expected = np.array([datasketch_signature(s, num_perm) for s in sets])
    assert ours.dtype == expected.dtype
    assert np.array_equal(ours, expected)
    assert np.array_equal(again, expected)
    lean = maker.minhash(ours[3])
    assert lean.jaccard(MinHash(num_perm=num_perm, seed=1, hashvalues=expected[3],
                                scheme="affine32")) == 1.0  # fmt: skip


def test_shingle_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(text_signatures, "MAX_CACHED_SHINGLES", 50)
    maker = SignatureMaker(16)
    for seed in range(5):
        sets = [shingles(t, 3) for t in random_texts(20, seed)]
        assert np.array_equal(
            maker.signatures(sets), np.array([datasketch_signature(s, 16) for s in sets])
        )
        assert len(maker._hashes) <= 50 + sum(len(s) for s in sets)


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "received_at": [T0 + timedelta(minutes=int(m)) for m in rng.integers(0, 2000, n)],
            "product_code": rng.choice(["P1", "P2", "P3", ""], n),
            "region": rng.choice(["广东", "浙江"], n),
            "channel": rng.choice(["hotline", "web"], n),
        }
    )


def test_counts_of_keys_matches_window_counts():
    reader = MemoryReader(frame(500, seed=3))
    reader.advance(T0 + timedelta(minutes=1500))
    keys = [("P1", "广东"), ("P3", "浙江"), ("P9", "广东"), ("", "浙江")]
    for since, until in [(0, 1500), (100, 400), (1400, 1800), (300, 300)]:
        a, b = T0 + timedelta(minutes=since), T0 + timedelta(minutes=until)
        for filters in (None, {"channel": ["web"]}):
            full = reader.window_counts(["product_code", "region"], a, b, filters)
            fast = reader.counts_of_keys(["product_code", "region"], a, b, keys, filters)
            assert fast == [full.get(k, 0) for k in keys]
            assert all(type(n) is int for n in fast)


def test_window_counts_total_and_min_count():
    reader = MemoryReader(frame(300, seed=5))
    reader.advance(T0 + timedelta(days=2))
    a, b = T0, T0 + timedelta(minutes=600)
    by_product = reader.window_counts(["product_code"], a, b)
    assert reader.window_counts([], a, b) == {(): sum(by_product.values())}
    assert reader.window_counts([], a, b, min_count=10_000) == {}
    assert reader.window_counts(["product_code"], a, b, min_count=30) == {
        k: n for k, n in by_product.items() if n >= 30
    }
    # nothing past the clock is visible, even when the window reaches beyond it
    reader.advance(T0 + timedelta(minutes=100))
    assert sum(reader.window_counts([], a, b).values()) == sum(
        1 for t in frame(300, seed=5)["received_at"] if t <= T0 + timedelta(minutes=100)
    )


def test_local_level_array_equals_local_level_key_by_key():
    rng = np.random.default_rng(7)
    mu = rng.gamma(2.0, 3.0, 200)
    dispersion = np.concatenate([[0.0, 1e-9], rng.uniform(0, 3, 198)])
    observed = rng.poisson(5, 200).astype(float)
    expected = np.concatenate([[-1.0, 0.0], rng.gamma(2.0, 4.0, 198)])
    mu_a, disp_a = local_level_array(mu, dispersion, observed, expected, 0.1)
    for i in range(200):
        mu_s, disp_s = local_level(mu[i], dispersion[i], int(observed[i]), expected[i], 0.1)
        assert mu_a[i] == mu_s and disp_a[i] == disp_s  # exactly, not approximately


def plain_counts(data: pd.DataFrame, dims, since, until, now, filters=None, min_count=1):
    """Window counts straight from the frame: the reference for the sliding counts."""
    rows = data[(data["received_at"] >= since) & (data["received_at"] < until)]
    rows = rows[rows["received_at"] <= now]
    for dim, values in (filters or {}).items():
        rows = rows[rows[dim].isin(values)]
    counts: dict = {}
    for key in zip(*(rows[d] for d in dims), strict=True) if dims else [()] * len(rows):
        counts[key] = counts.get(key, 0) + 1
    return {k: n for k, n in counts.items() if n >= max(min_count, 1)}


def test_sliding_window_counts_equal_plain_counts_tick_by_tick(monkeypatch):
    data = frame(600, seed=11)
    reader = MemoryReader(data)
    # a small rebuild limit, so that both the moved and the rebuilt counts are exercised
    monkeypatch.setattr("alerts.detect.memory_reader.REBUILD_ROWS", 12)
    cases = [(["product_code"], 60, None, 3), (["product_code", "region"], 240, None, 1),
             ([], 90, {"channel": ["web"]}, 1), (["region"], 30, {"product_code": ["P1"]}, 2)]  # fmt: skip
    now = T0
    clocks = [T0 + timedelta(minutes=m) for m in range(0, 2100, 7)]
    clocks += [T0 + timedelta(minutes=500), T0 + timedelta(minutes=1900)]  # back, then a jump
    for now in clocks:
        reader.advance(now)
        for dims, minutes, filters, min_count in cases:
            until = now.replace(second=0) + timedelta(minutes=5)
            since = until - timedelta(minutes=minutes)
            got = reader.window_counts(dims, since, until, filters, min_count)
            assert got == plain_counts(data, dims, since, until, now, filters, min_count)
            assert list(got) == sorted(got, key=list(reader._group(dims)[1]).index)


def test_complaint_refs_are_the_key_rows_in_window_order():
    data = frame(400, seed=12)
    reader = MemoryReader(data)
    reader.advance(T0 + timedelta(minutes=1500))
    since, until = T0 + timedelta(minutes=200), T0 + timedelta(minutes=1700)
    ordered = data.sort_values("received_at", kind="stable").reset_index(drop=True)
    for key, filters in [({"product_code": "P2"}, None), ({"region": "浙江"}, {"channel": ["web"]}),
                         ({"product_code": "P9"}, None), ({"product_code": "", "region": "广东"}, None)]:  # fmt: skip
        keep = (ordered["received_at"] >= since) & (ordered["received_at"] < until)
        keep &= ordered["received_at"] <= T0 + timedelta(minutes=1500)
        for dim, value in key.items():
            keep &= ordered[dim] == value
        for dim, values in (filters or {}).items():
            keep &= ordered[dim].isin(values)
        expected = ordered.index[keep].tolist()[:7]
        refs = reader.complaint_refs(key, since, until, 7, filters)
        assert [r.id for r in refs] == expected
        assert [r.external_id for r in refs] == ordered["id"][expected].tolist()


@pytest.mark.parametrize("local", [None, 720])
def test_surge_expectations_with_floats_equal_the_array_ones(local):
    from alerts.detect.rules.surge import SurgeEvaluator
    from alerts.detect.stats import Baseline
    from config.rules import SurgeRule

    rng = np.random.default_rng(9)
    rule = SurgeRule(name="s", kind="surge", local_dispersion=0.1)
    evaluator = SurgeEvaluator(rule)
    shares, dispersion = rng.uniform(1e-4, 0.7, 40), rng.uniform(0.05, 3.0, 40)
    evaluator._base = Baseline(shares, dispersion, 0.7, 1e-4, 28)
    evaluator._shares, evaluator._dispersions = shares.tolist(), dispersion.tolist()
    n = 60
    rows = [int(i) if i < 40 else None for i in rng.integers(0, 50, n)]
    args = (
        rows, rng.integers(0, 500, n).tolist(), float(rng.uniform(0, 900)),
        rng.uniform(0, 50, n).tolist(), rng.integers(0, 30, n).tolist(),
        rng.uniform(-1, 40, n).tolist(), local,
        # yesterday's level where days persist (alerts.detect.stats.day_persistence)
        list(zip(rng.uniform(0.5, 2.0, n).tolist(), rng.uniform(0.4, 1.0, n).tolist(),
                 strict=True)) if local else [],
    )  # fmt: skip
    mu_s, disp_s = evaluator._expected_scalar(*args)
    mu_a, disp_a = evaluator._expected_array(*args)
    assert mu_s == mu_a.tolist() and disp_s == disp_a.tolist()  # exactly, not approximately
