"""A small regional cluster inside a busy product: its share of the product's complaints pages where
the product × region count alone does not, and the same complaints spread as usual do not."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from alerts.detect.rules.surge import SurgeEvaluator
from alerts.detect.share import fit_shares, share_of, share_tail_p, sum_by_group
from tests.alerts.detection_helpers import START, background, complaint, reader_for, replay
from tests.alerts.test_detection_local_level import shipped

# usual regions of every product: a large province, two middling ones and small ones
REGIONS = {"广东": 0.4, "江苏": 0.2, "浙江": 0.2, "山东": 0.14, "青海": 0.02, "宁夏": 0.02,
           "西藏": 0.02}  # fmt: skip
TODAY = START + timedelta(days=28)


def history(seed: int = 3) -> list[dict]:
    """28 days and a morning of a busy product (120 a day, day levels varying by a third) and
    three quieter ones, each complaint in a region drawn from REGIONS."""
    rows = background(
        START, 29, {"P1": 120, "P2": 30, "P3": 10, "P4": 5}, seed=seed, dispersion=0.3
    )
    rng = np.random.default_rng(seed)
    names, p = list(REGIONS), np.array(list(REGIONS.values()))
    for row in rows:
        row["region"] = names[int(rng.choice(len(names), p=p / p.sum()))]
    return [r for r in rows if r["received_at"] < TODAY + timedelta(hours=4)]  # to 12:00 local


def extra(regions: list[str]) -> list[dict]:
    """More complaints on P1 between 12:00 and 14:00 local, in these regions."""
    at = TODAY + timedelta(hours=4)
    return [
        complaint(f"x{i}", at + timedelta(minutes=20 * i), "P1", region=region)
        for i, region in enumerate(regions)
    ]


def p1_findings(rule, rows) -> list:
    evaluator = SurgeEvaluator(rule)
    start, end = TODAY + timedelta(hours=4), TODAY + timedelta(hours=6)
    found = replay(evaluator, reader_for(rows), start, end, step=timedelta(minutes=10))
    return [f for _, items in found for f in items if f.key["product_code"] == "P1"]


def test_share_tail_is_the_binomial_when_shares_do_not_drift_and_wider_when_they_do():
    binomial = 10 * (1 / 6) ** 9 * (5 / 6) + (1 / 6) ** 10  # 9 or more of 10 at 1/6
    # ρ is floored at share.MIN_RHO: within a few per cent of the binomial
    assert share_tail_p(9, 10, 1 / 6, 1e-9) == pytest.approx(binomial, rel=0.05)
    assert share_tail_p(9, 10, 1 / 6, 0.05) > 10 * binomial
    assert share_tail_p(0, 10, 0.5, 0.01) == 1.0


def test_fitted_share_and_drift_of_sub_keys():
    rng = np.random.default_rng(1)
    keys = [("P1", "a"), ("P1", "b"), ("P2", "a")]
    n = rng.poisson(100, size=40)
    a = rng.binomial(n, 0.1)
    daily = np.array([a, n - a, rng.poisson(5, size=40)])
    fit = fit_shares(keys, daily, [0], [1])
    assert fit.share[("P1", "a")] == pytest.approx(0.1, abs=0.01)
    assert fit.rho < 0.01  # binomial days: no drift beyond the floor
    # a region never seen in P2 takes its company-wide share, shrunk by P2's history
    share, rho = share_of(fit, ("P2", "b"), ("P2",), ("b",))
    assert 0 < share < 0.5 and rho > fit.rho
    drifting = np.array([a * 2 * (np.arange(40) % 2), n - a * 2 * (np.arange(40) % 2), daily[2]])
    assert fit_shares(keys, drifting, [0], [1]).rho > 0.05


def test_a_regional_cluster_in_a_busy_product_pages_and_the_same_count_spread_does_not():
    rule = shipped("product-region-surge")
    assert rule.share_of == ["product_code"]
    # six in a province that usually has 2 % of the product's 120 a day
    clustered = history() + extra(["青海"] * 6)
    found = p1_findings(rule, clustered)
    assert found and {f.key["region"] for f in found} == {"青海"}
    assert found[0].details["stage"] == "share"
    assert found[0].details["share_of"] == ["product_code"]  # English titles name the parent
    assert "通常约" in found[0].title
    # the product × region count alone (no share test) does not see it
    assert not p1_findings(rule.model_copy(update={"share_of": []}), clustered)
    # the same six complaints spread as the product's regions usually are: nothing
    spread = ["广东"] * 3 + ["江苏", "浙江", "山东"]
    assert not p1_findings(rule, history() + extra(spread))


def test_share_of_must_be_part_of_the_key():
    with pytest.raises(ValueError, match="share_of"):
        shipped("product-region-surge").model_validate(
            {**shipped("product-region-surge").model_dump(), "share_of": ["channel"]}
        )


def test_sum_by_group_is_add_at_for_every_order_of_groups():
    rng = np.random.default_rng(8)
    groups = rng.permutation(np.r_[np.arange(40), rng.integers(0, 40, 300)])
    values = rng.integers(0, 9, (len(groups), 28)).astype(float)
    expected = np.zeros((40, 28))
    np.add.at(expected, groups, values)
    assert np.array_equal(sum_by_group(groups, values, 40), expected)
    assert sum_by_group(np.array([2, 0, 1, 0]), np.array([[1], [2], [3], [4]]), 3).tolist() == [
        [6],
        [3],
        [1],
    ]


def test_a_branch_s_mis_selling_pages_on_its_sales_complaints_before_the_province_count_does():
    """Five sales complaints in a small province: the province's own count (all categories)
    is not yet improbable, its share of the product's sales complaints is; five claims
    complaints there do not page the mis-selling rule, whose filter keeps sales only."""
    rng = np.random.default_rng(5)
    categories, weights = ["理赔", "服务", "销售"], np.array([0.55, 0.3, 0.15])
    usual = history()
    for row in usual:
        row["category"] = categories[int(rng.choice(3, p=weights))]

    def five(category: str) -> list[dict]:
        at = TODAY + timedelta(hours=4)
        return [
            complaint(f"x{i}", at + timedelta(minutes=20 * i), "P1", region="青海",
                      category=category)
            for i in range(5)
        ]  # fmt: skip

    missell = shipped("branch-missell")
    assert missell.filters == {"category": ["销售"]}
    found = p1_findings(missell, usual + five("销售"))
    assert found and {f.key["region"] for f in found} == {"青海"}
    assert found[0].details["filters"] == {"category": ["销售"]}  # its chart counts the same
    assert not p1_findings(shipped("product-region-surge"), usual + five("销售"))
    assert not p1_findings(missell, usual + five("理赔"))
