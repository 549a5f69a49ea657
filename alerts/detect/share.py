"""A sub-key's share of its parent key: the conditional test of a surge rule's ``share_of``.

A busy product's day is hard to predict (its level varies by a quarter or more from day to
day), so a cluster of ten complaints in one province or one category inside it hardly moves the
product's count, and the product × region key's own expectation carries all of that day-level
uncertainty. Given the parent's count N in the window, the sub-key's count x is instead judged
against its usual share of the parent: the day-level uncertainty cancels out of a share. This
is the conditioning of the space-time permutation scan statistic (Kulldorff et al. 2005:
expected cases of a zone in a period = the period's total × the zone's usual share), with a
beta-binomial instead of a Poisson law so that shares that drift from day to day, and a share
read from few complaints, widen the test rather than page.

- The usual share p of a sub-key is its count over the parent's over the fit's history, with
  ``PRIOR_WEIGHT`` complaints of prior weight on the sub-value's share of all complaints (a
  province's share of the company), so a region first seen in a product is not a surprise.
- Day-to-day drift of shares: the intra-class correlation ρ of daily sub-key counts given
  their parent's (beta-binomial method of moments, pooled over the rule's keys; sub-key days
  more than ``OUTBREAK_Z`` standard deviations above their share left out), plus the
  share's own uncertainty 1 / (n + 1) over n history complaints of the parent.
- The window's law is beta-binomial(N, a, b) with mean p and a + b = 1/ρ_total − 1
  (``scipy.stats.betabinom``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

Key = tuple[str, ...]

PRIOR_WEIGHT = 10.0  # complaints of prior weight on the sub-value's company-wide share
MIN_RHO = 1e-4  # a share never tested as a pure binomial
# a sub-key day this many standard deviations above its share is a blatant outbreak, and its
# parent's day is left out of the fit (Noufaily et al. 2013 down-weight such days for the same
# reason; 6 as for the day persistence in alerts.detect.stats)
OUTBREAK_Z = 6.0
OUTBREAK_PASSES = 3


@dataclass
class ShareFit:
    """Usual shares of each sub-key within its parent, and the pooled share drift ρ."""

    share: dict[Key, float] = field(default_factory=dict)
    parent_total: dict[Key, float] = field(default_factory=dict)  # history complaints
    value_share: dict[Key, float] = field(default_factory=dict)  # sub-value, company-wide
    rho: float = MIN_RHO
    floor_share: float = 1e-3


def split(key: Key, parent_at: Sequence[int], rest_at: Sequence[int]) -> tuple[Key, Key]:
    """(parent part, rest part) of a key."""
    return tuple([key[i] for i in parent_at]), tuple([key[i] for i in rest_at])


def sum_by_group(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Rows of ``values`` summed per group (``groups``: each row's group, every one of
    0..count-1 present): ``np.add.at``'s sums in the same order, without its per-element cost."""
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], np.arange(count))
    return np.add.reduceat(values[order], starts, axis=0)


def fit_shares(
    keys: Sequence[Key], daily: np.ndarray, parent_at: Sequence[int], rest_at: Sequence[int]
) -> ShareFit:
    """Shares and pooled ρ from ``daily`` (keys × days) counts of the sub-keys.

    The parent's daily count is the sum of its sub-keys (a complaint without a sub-value is in
    no sub-key; its parent's other complaints still are)."""
    fit = ShareFit()
    if not len(keys):
        return fit
    y = np.asarray(daily, dtype=float)
    pairs = [split(k, parent_at, rest_at) for k in keys]
    parents = [pair[0] for pair in pairs]
    rests = [pair[1] for pair in pairs]
    parent_ids = {p: n for n, p in enumerate(dict.fromkeys(parents))}
    rows = np.array([parent_ids[p] for p in parents])
    parent_daily = sum_by_group(rows, y, len(parent_ids))
    grand = y.sum()
    if grand <= 0:
        return fit
    by_rest: dict[Key, float] = {}
    for rest, total in zip(rests, y.sum(axis=1).tolist(), strict=True):
        by_rest[rest] = by_rest.get(rest, 0.0) + total
    fit.value_share = {rest: total / grand for rest, total in by_rest.items()}
    fit.floor_share = min(fit.value_share.values()) if fit.value_share else 1e-3
    parent_sum = parent_daily.sum(axis=1)
    fit.parent_total = {p: float(parent_sum[n]) for p, n in parent_ids.items()}
    prior = np.array([fit.value_share[r] for r in rests])
    n = parent_daily[rows]
    own, parent = y.sum(axis=1), parent_sum[rows]
    kept, rho = n >= 1, 0.0
    for step in range(OUTBREAK_PASSES + 1):
        if step:  # fit again without the days that the fit so far calls outbreaks
            own, parent = (y * kept).sum(axis=1), (n * kept).sum(axis=1)
        p = (own + PRIOR_WEIGHT * prior) / (parent + PRIOR_WEIGHT)
        pp = p[:, None]
        if step:
            # method of moments for the beta-binomial ICC over days with two or more
            # complaints of the parent: E[(x − Np)²] = Np(1 − p)(1 + (N − 1)ρ)
            live = kept & (n >= 2)
            num = (((y - n * pp) ** 2 - n * pp * (1 - pp)) * live).sum()
            den = (n * (n - 1) * pp * (1 - pp) * live).sum()
            rho = float(min(max(num / den, MIN_RHO), 0.5)) if den > 0 else MIN_RHO
        if step == OUTBREAK_PASSES:
            break
        # leave out the parent days on which a sub-key is blatantly above its share (binomial
        # at first, then with ρ): one slow rise of 600 a day in a busy product's category
        # would otherwise make every share look drifting, and it lowers the other categories'
        # shares that day too
        sd = np.sqrt(n * pp * (1 - pp) * (1 + (n - 1) * rho))
        blatant = y - n * pp > OUTBREAK_Z * np.maximum(sd, 1e-9)
        outbreaks = sum_by_group(rows, blatant.astype(np.int64), len(parent_ids))
        kept = (n >= 1) & (outbreaks[rows] == 0)
    fit.share = {k: float(v) for k, v in zip(keys, p.tolist(), strict=True)}
    fit.rho = rho
    return fit


def share_of(fit: ShareFit, key: Key, parent: Key, rest: Key) -> tuple[float, float]:
    """(usual share, ρ of the window's beta-binomial) of a sub-key; a sub-key the history has
    not seen in its parent takes the prior part of the estimate (no complaints of its own)."""
    history = fit.parent_total.get(parent, 0.0)
    share = fit.share.get(key)
    if share is None:
        prior = fit.value_share.get(rest, fit.floor_share)
        share = float(PRIOR_WEIGHT * prior / (history + PRIOR_WEIGHT))
    return share, fit.rho + 1.0 / (history + PRIOR_WEIGHT + 1.0)


def share_tail_p(x: float, n: float, share: float, rho: float, max_p: float = 1.0) -> float:
    """P(X >= x) for X ~ beta-binomial(n, a, b) with mean ``share`` and ICC ``rho``.

    ``x`` and ``n`` may be fractional (counts of clusters, x/φ); they are rounded down and up
    so the test stays on the conservative side. Where even the binomial tail is at least
    ``max_p`` (the rule's alpha) the answer is 1.0 without the beta-binomial's cost."""
    if x <= 0:
        return 1.0
    share = min(max(share, 1e-9), 1 - 1e-9)
    rho = min(max(rho, MIN_RHO), 0.999)
    concentration = 1.0 / rho - 1.0
    k, trials = int(np.floor(x)), int(np.ceil(max(n, x)))
    if k > trials * share and special.bdtrc(k - 1, trials, share) >= max_p:
        return 1.0  # the beta-binomial tail above the mean is only heavier: not below max_p
    return float(
        stats.betabinom.sf(k - 1, trials, share * concentration, (1 - share) * concentration)
    )
