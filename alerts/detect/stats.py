"""Statistics for expected counts: shares with outbreak down-weighting, NB tails, CUSUM.

References
- Farrington C.P., Andrews N.J., Beale A.D., Catchpole M.A. (1996). A statistical algorithm for
  the early detection of outbreaks of infectious disease. J. R. Stat. Soc. A 159:547-563.
  (Anscombe residuals; past outbreaks down-weighted by w = s^-2 before the baseline is fitted.)
- Noufaily A., Enki D.G., Farrington P., Garthwaite P., Andrews N., Charlett A. (2013).
  An improved algorithm for outbreak detection in multiple surveillance systems.
  Stat. Med. 32:1206-1222. (Down-weight only residuals above 2.58; negative-binomial
  thresholds instead of the 2/3-power transform.)
- Kulldorff M., Heffernan R., Hartman J., Assuncao R., Mostashari F. (2005). A space-time
  permutation scan statistic for disease outbreak detection. PLoS Med 2(3):e59. (Expected count
  of one key = its share of the total times the total in the window: purely temporal effects such
  as holidays cancel out.)
- Page E.S. (1954). Continuous inspection schemes. Biometrika 41:100-115 (CUSUM); Rossi G.,
  Lampugnani L., Marchi M. (1999). An approximate CUSUM procedure for surveillance of health
  events. Stat. Med. 18:2111-2122 (CUSUM on standardised counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy import special

MAX_DISPERSION = 3.0
OUTBREAK_RESIDUAL = 6.0  # standardised residual beyond which a past day is left out of dispersion
# A key's own dispersion counts as many days as it has; the pooled value counts as 14 days, so a
# fortnight of history is needed before a key's own (noisy) moment estimate dominates.
DISPERSION_PRIOR_DAYS = 14.0
# Above this share of all complaints a key is its own baseline: conditioning on the others
# (Kulldorff) divides by 1 - share, so a key that is most of the total (a one-product file, a
# dominant line) would be expected to move with the few others' noise, or to expect nothing.
MAX_CONDITIONED_SHARE = 0.5
# Complaint counts are never exactly Poisson (people complain in clusters); a small floor
# keeps the test honest for keys whose history happened to look calm.
MIN_DISPERSION = 0.05
# a day level never carries over in full: the estimate of ρ is noisy over four weeks
MAX_PERSISTENCE = 0.8


def anscombe_residuals(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Poisson Anscombe residuals, 1.5 (y^(2/3) - m^(2/3)) / m^(1/6) (Farrington 1996)."""
    m = np.maximum(m, 1e-9)
    return 1.5 * (np.cbrt(y) ** 2 - np.cbrt(m) ** 2) / m ** (1 / 6)


def nb_upper_p(
    x: np.ndarray | int, mu: np.ndarray | float, dispersion: np.ndarray | float
) -> np.ndarray:
    """P(X >= x) for X ~ NB with mean mu and variance mu + dispersion·mu² (Poisson when 0)."""
    x = np.asarray(x, dtype=float)
    mu = np.maximum(np.asarray(mu, dtype=float), 1e-9)
    dispersion = np.asarray(dispersion, dtype=float)
    size = 1.0 / np.maximum(dispersion, 1e-9)
    # scipy.special's regularised incomplete beta is scipy.stats' nbinom.sf (real-valued size)
    # without its per-call overhead: P(X >= x) = I_{mu/(size+mu)}(x, size)
    nb = special.betainc(np.maximum(x, 1), size, mu / (size + mu))
    poisson = special.pdtrc(x - 1, mu)
    return np.where(x <= 0, 1.0, np.where(dispersion < 1e-6, poisson, nb))


def nb_normal_scores(y: np.ndarray, mu: np.ndarray, dispersion: np.ndarray | float) -> np.ndarray:
    """Normal scores of counts under their NB law: Φ⁻¹ of the mid-p CDF (Dunn & Smyth 1996).

    (y - m)/sd is far from normal for over-dispersed counts (a gamma-like right tail), so a
    CUSUM on it drifts up on ordinary busy days; these scores are N(0, 1) under the baseline
    whatever the dispersion, as Rossi et al. (1999) intend with their transform.
    """
    upper = nb_upper_p(y, mu, dispersion)  # P(Y >= y)
    above = nb_upper_p(np.asarray(y, dtype=float) + 1, mu, dispersion)  # P(Y > y)
    mid = np.clip(0.5 * (upper + above), 1e-12, 1 - 1e-12)
    return -special.ndtri(mid)


@dataclass(frozen=True)
class Baseline:
    """Per-key share of the total, its NB dispersion, and how many history days were used."""

    shares: np.ndarray
    dispersion: np.ndarray
    pooled_dispersion: float
    floor_share: float
    days: int
    mean_total: float = 0.0  # all keys' mean count per history day


def fit_baseline(y: np.ndarray, totals: np.ndarray, threshold: float = 2.58) -> Baseline:
    """Shares r_k of each key in the daily totals, with past outbreaks down-weighted.

    ``y`` is keys × days, ``totals`` the all-key count per day (same filters). Days with no
    data at all are ignored. One reweighting pass as in Farrington (1996), with Noufaily et
    al.'s (2013) 2.58 cut-off; dispersion by the method of moments for NB (Var = m + a·m²),
    shrunk towards the pooled value so sparse keys borrow strength from dense ones.
    """
    y = np.asarray(y, dtype=float)
    totals = np.asarray(totals, dtype=float)
    live = totals > 0
    days = int(live.sum())
    if days == 0 or y.shape[0] == 0:
        return Baseline(np.zeros(y.shape[0]), np.zeros(y.shape[0]), 0.0, 1.0, days)
    y, totals = y[:, live], totals[live]
    mean_total = float(totals.mean())
    grand = totals.sum()
    floor = 0.5 / grand  # half a complaint over the whole history: unseen keys are not impossible
    shares = np.maximum(y.sum(axis=1) / grand, floor)
    dispersion = np.zeros(y.shape[0])
    pooled = 0.0
    others = totals[None, :] - y  # compare each key with the rest, as the surge test does
    keep = np.ones_like(y)  # days used for the dispersion: all but blatant outbreaks
    for _ in range(2):
        m = conditional_expected(shares[:, None], others, mean_total)
        resid2 = keep * ((y - m) ** 2 - y)
        m2 = keep * m**2
        pooled = float(np.clip(resid2.sum() / max(m2.sum(), 1e-9), 0.0, MAX_DISPERSION))
        own = np.clip(resid2.sum(axis=1) / np.maximum(m2.sum(axis=1), 1e-9), 0.0, MAX_DISPERSION)
        w_own = (keep * np.minimum(m, 1.0)).sum(axis=1)  # days with at least one expected
        dispersion = (w_own * own + DISPERSION_PRIOR_DAYS * pooled) / (
            w_own + DISPERSION_PRIOR_DAYS
        )
        dispersion = np.maximum(dispersion, MIN_DISPERSION)
        s = anscombe_residuals(y, m) / np.sqrt(1.0 + dispersion[:, None] * m)
        # Farrington/Noufaily weights for the level; the dispersion keeps ordinary bad days
        # (down-weighting them would understate over-dispersion and cause false alarms)
        weights = np.where(s > threshold, 1.0 / np.maximum(s, 1e-9) ** 2, 1.0)
        keep = np.where(s > OUTBREAK_RESIDUAL, 0.0, 1.0)
        shares = np.maximum((weights * y).sum(axis=1) / (weights * totals).sum(axis=1), floor)
    return Baseline(shares, dispersion, pooled, floor, days, mean_total)


def within_day_dispersion(hourly: np.ndarray, shape: np.ndarray, hours: int = 1) -> np.ndarray:
    """Per key, the NB dispersion of ``hours``-long counts around the key's own level that day.

    ``hourly`` is keys × days × 24, ``shape`` days × 24: each hour's share of its day in the
    all-key profile. A day's expected block is the key's count that day times the block's share,
    so day-to-day swings (which the local level learns) do not count, only how bursty the key
    is within a day: near zero for a hotline, large for a social channel where a retweet wave
    quadruples a half hour on an ordinary day. Method of moments as in ``fit_baseline``, blocks
    with blatant outliers (past events) left out in a second pass, shrunk to the pooled value.
    ``hours`` must divide 24.
    """
    keys, days = hourly.shape[0], hourly.shape[1]
    if keys == 0 or days == 0:
        return np.zeros(keys)
    # keys with under two complaints a day carry almost no evidence of their own (their weight
    # below is tiny against the prior): they get the pooled value, and cost nothing
    dense = np.einsum("kdh->k", hourly) >= 2 * days  # counts: an exact sum, faster than .sum
    if not dense.any():
        return np.zeros(keys)
    y = np.asarray(hourly[dense], dtype=float)
    if hours > 1:
        y = y.reshape(len(y), days, 24 // hours, hours).sum(axis=3)
        shape = shape.reshape(days, 24 // hours, hours).sum(axis=2)
    m = y.sum(axis=2, keepdims=True) * shape[None, :, :]
    keep = np.ones_like(y)
    own = np.zeros(len(y))
    pooled = 0.0
    for _ in range(2):
        resid2 = (keep * ((y - m) ** 2 - y)).sum(axis=(1, 2))
        m2 = (keep * m**2).sum(axis=(1, 2))
        pooled = float(np.clip(resid2.sum() / max(m2.sum(), 1e-9), 0.0, MAX_DISPERSION))
        own = np.clip(resid2 / np.maximum(m2, 1e-9), 0.0, MAX_DISPERSION)
        weight = (keep * np.minimum(m, 1.0)).sum(axis=(1, 2)) / m.shape[2]  # days, roughly
        own = (weight * own + DISPERSION_PRIOR_DAYS * pooled) / (weight + DISPERSION_PRIOR_DAYS)
        s = anscombe_residuals(y, m) / np.sqrt(1.0 + own[:, None, None] * m)
        keep = np.where(s > OUTBREAK_RESIDUAL, 0.0, 1.0)
    out = np.full(keys, pooled)
    out[dense] = own
    return out


MAX_CLUSTERING = 10.0


def clustering_index(hourly: np.ndarray, shape: np.ndarray) -> float:
    """How many complaints arrive together, φ: the variance over the mean of quiet hours.

    ``hourly`` is keys × days × 24, ``shape`` days × 24 (each hour's share of its day). Given a
    key's count that day, its complaints fall into hours as a multinomial (variance
    m·(1 - share)) when they arrive one by one; reposts, a family complaining together or a
    campaign's batches make them arrive in clusters and multiply that variance by φ (a compound
    Poisson: Var = φ·mean, Cox & Isham 1980). Measured on hours expecting under one complaint,
    where level bursts (the quadratic part) are small, with blatant outliers (past events) left
    out. 1 for a hotline; the NB test then counts in clusters (x/φ against mu/φ).
    """
    return clustering_of(live_days(hourly, shape))


class LiveDays(NamedTuple):
    """The key-days of keys × days × 24 hourly counts that hold a complaint, in key then day order:
    their hours ``y`` (n × 24, floats), expected hours ``m`` (the day's count spread as the day's
    ``shares`` of the hour shape) and the index of each one's ``key``. The other key-days expect
    nothing in every hour, and no quiet-hour figure counts an hour that expects nothing: leaving
    them out first (most key-days of a sparse pool) gives the same figures, faster."""

    y: np.ndarray
    m: np.ndarray
    shares: np.ndarray
    key: np.ndarray

    def select(self, rows: np.ndarray) -> LiveDays:
        """The key-days of a subset of the keys (``rows``: a mask over key-days), order kept."""
        return LiveDays(self.y[rows], self.m[rows], self.shares[rows], self.key[rows])


def live_days(hourly: np.ndarray, shape: np.ndarray) -> LiveDays:
    y = np.asarray(hourly)  # counts: summed as integers they are the same in floats
    per_day = np.einsum("kdh->kd", y)  # an exact integer sum, 3x faster than y.sum(axis=2)
    key, day = np.nonzero(per_day > 0)
    shares = shape[day]
    m = per_day[key, day].astype(float)[:, None] * shares
    return LiveDays(y[key, day].astype(float), m, shares, key)


def live_days_of_cells(
    rows: np.ndarray, bins: np.ndarray, counts: np.ndarray, shape: np.ndarray
) -> LiveDays:
    """``live_days`` of hourly cells (``CountReader.series_cells`` with 60-minute bins from a
    day's start, ordered by row then bin): the same key-days in the same order, without the
    dense keys × days × 24 array."""
    key_day = rows * len(shape) + bins // 24
    found, inverse = np.unique(key_day, return_inverse=True)
    y = np.zeros((len(found), 24))
    y[inverse, bins % 24] = counts
    key, day = found // len(shape), found % len(shape)
    shares = shape[day]
    return LiveDays(y, y.sum(axis=1)[:, None] * shares, shares, key)


def hour_and_day_sums(
    rows: np.ndarray, bins: np.ndarray, counts: np.ndarray, keys: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each key's counts per hour of day (keys × 24) and per day (keys × days) from hourly
    cells (``CountReader.series_cells``, bins from a day's start); exact integers."""
    by_hour = np.bincount(rows * 24 + bins % 24, counts, minlength=keys * 24)
    by_day = np.bincount(rows * days + bins // 24, counts, minlength=keys * days)
    return by_hour.astype(np.int64).reshape(keys, 24), by_day.astype(np.int64).reshape(keys, days)


def cells_of_rows(
    rows: np.ndarray, bins: np.ndarray, counts: np.ndarray, chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of the ``chosen`` rows (ascending), numbered by their place among them."""
    place = np.full(int(rows.max(initial=-1)) + 1, -1)
    place[chosen] = np.arange(len(chosen))
    kept = place[rows] >= 0
    return place[rows[kept]], bins[kept], counts[kept]


def dense_hourly(
    rows: np.ndarray, bins: np.ndarray, counts: np.ndarray, chosen: np.ndarray, days: int,
    extra: int = 0,
) -> np.ndarray:  # fmt: skip
    """The ``chosen`` rows' cells as a dense len(chosen) × days × 24 array, and ``extra`` empty
    rows after them."""
    place, hours, n = cells_of_rows(rows, bins, counts, chosen)
    out = np.zeros((len(chosen) + extra, days * 24), dtype=np.int64)
    out[place, hours] = n
    return out.reshape(-1, days, 24)


def clustering_of(days: LiveDays) -> float:
    """``clustering_index`` of the key-days ``live_days`` found (of one pool)."""
    y, m = days.y, days.m
    quiet = (m > 0) & (m < 1.0)
    # an empty hour's residual is negative: only hours with complaints can be outliers
    test = quiet & (y > 0)
    quiet[test] = anscombe_residuals(y[test], m[test]) <= OUTBREAK_RESIDUAL
    variance = (m * (1.0 - days.shares))[quiet]
    if variance.sum() < 30.0:  # too little to tell
        return 1.0
    phi = float(((y - m) ** 2)[quiet].sum() / variance.sum())
    return min(max(phi, 1.0), MAX_CLUSTERING)


def quiet_hour_counts(hourly: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """The counts of the non-empty hours that expected under one complaint, sorted: how big
    the clusters of a pool of keys get when nothing is going on (``cluster_tail_p``)."""
    return quiet_counts_of(live_days(hourly, shape))


def quiet_counts_of(days: LiveDays) -> np.ndarray:
    """``quiet_hour_counts`` of the key-days ``live_days`` found (of one pool)."""
    y, m = days.y, days.m
    return np.sort(y[(m > 0) & (m < 1.0) & (y > 0)])


def cluster_tail_p(x: float, mu: float, quiet: np.ndarray) -> float:
    """P(count >= x) for a sparse key whose complaints arrive in clusters as its pool's do: the
    expected number of non-empty hours (mu over their mean count) times the share of the pool's
    quiet non-empty hours that held x or more. A compound Poisson's tail is its cluster-size
    tail; the NB, even scaled by φ, puts almost nothing on one cluster of six when a key
    expects 0.01. Empty for fewer than 30 such hours (too little to tell)."""
    n = len(quiet)
    if n < 30:
        return 0.0
    reached = n - int(np.searchsorted(quiet, x, side="left"))
    return min(1.0, mu / float(quiet.mean()) * reached / n)


def burst_dispersion(hourly: float, six_hourly: float, hours: float) -> float:
    """The within-day dispersion of a count over ``hours`` hours of bursts, from the hourly and
    six-hourly ones: a power law through both (exponent clamped to 0.3..1).

    Independent hourly bursts would give exponent 1 (dispersion ∝ 1/hours); real bursty series
    decay slower because a wave lasts hours (NAB tweet counts: 0.6–0.7), and a half hour is
    burstier than the hour around it.
    """
    if hourly <= 0.0:
        return 0.0
    ratio = hourly / six_hourly if six_hourly > 0.0 else 6.0
    exponent = min(max(math.log(ratio) / math.log(6.0), 0.3), 1.0)
    return hourly * hours**-exponent


def cusum(z: np.ndarray, k: float) -> np.ndarray:
    """Upper CUSUM S_t = max(0, S_{t-1} + z_t - k) along the last axis; returns the final S."""
    s = np.zeros(z.shape[:-1])
    for t in range(z.shape[-1]):
        s = np.maximum(0.0, s + z[..., t] - k)
    return s


def conditional_expected(
    share: np.ndarray | float, others: np.ndarray | float, mean_total: float
) -> np.ndarray:
    """Expected count of a key given the others' count: r/(1-r) · others (Kulldorff 2005);
    a key above ``MAX_CONDITIONED_SHARE`` expects its own mean, r · ``mean_total``."""
    share = np.asarray(share, dtype=float)
    capped = np.minimum(share, MAX_CONDITIONED_SHARE)
    conditioned = capped / (1.0 - capped) * np.asarray(others, dtype=float)
    return np.where(share > MAX_CONDITIONED_SHARE, share * mean_total, conditioned)


# beyond this a Borel tail is negligible: φ ≤ MAX_CLUSTERING keeps n ≤ 0.68, P(S ≥ 1000) < 1e-25
MAX_CLUSTER = 1000


def borel_tail_p(x: float, mu: float, phi: float) -> float:
    """P(count >= x) from one cluster alone when complaints arrive in repost threads: a
    Poisson number of clusters (mean ``mu``(1 - n)), each of Borel size with branching ratio
    n (every complaint prompts n more on average: Hawkes self-excitation, the total progeny of
    a Poisson branching process), n from the clustering index φ = 1/(1 - n)². The Borel tail
    is what a thread of six or ten on a key expecting 0.01 really has; the NB, even counted in
    clusters, puts almost nothing there. 0 where complaints arrive one by one (φ ≈ 1)."""
    n = 1.0 - 1.0 / math.sqrt(min(max(phi, 1.0), MAX_CLUSTERING))
    if n < 0.02 or x <= 1 or x > MAX_CLUSTER or mu <= 0:
        return 0.0
    s = np.arange(1, math.ceil(x), dtype=float)
    log_pmf = -n * s + (s - 1) * np.log(n * s) - special.gammaln(s + 1)
    tail = max(0.0, 1.0 - float(np.exp(log_pmf).sum()))
    return -math.expm1(-mu * (1.0 - n) * tail)


def day_persistence(y: np.ndarray, totals: np.ndarray, base: Baseline) -> np.ndarray:
    """Per key, the centre and the dispersion factor of today's level given yesterday's count.

    Day levels that persist (a product's busy week, real series' slow drifts) make yesterday's
    count evidence about today's level. Model the log level as AR(1) with coefficient ρ: given
    yesterday's level L, today's is centred on L^ρ with (1 − ρ²) of the stationary variance.
    ρ is the keys' pooled lag-1 covariance of standardised daily residuals over the part of
    their variance that is the level's (a·m² of m + a·m², the Poisson part removed), from the
    history; L is yesterday's gamma posterior mean, (1/a + y) / (1/a + m). With independent
    days ρ ≤ 0 and nothing changes. A blatant outbreak yesterday (|residual| >
    ``OUTBREAK_RESIDUAL``) is not carried, so an event does not mask its own second day.
    Returns keys × 2: (centre, factor); (1, 1) means no change.
    """
    y = np.asarray(y, dtype=float)
    totals = np.asarray(totals, dtype=float)
    out = np.ones((y.shape[0], 2))
    live = totals > 0
    if y.shape[0] == 0 or live.sum() < 8 or not live[-1]:
        return out
    y, totals = y[:, live], totals[live]
    m = conditional_expected(base.shares[:, None], totals[None, :] - y, base.mean_total)
    a = base.dispersion[:, None]
    s = (y - m) / np.sqrt(np.maximum(m + a * m**2, 1e-9))
    level_part = a * m**2 / np.maximum(m + a * m**2, 1e-9)
    ok = (np.abs(s) <= OUTBREAK_RESIDUAL) & (m >= 0.5)
    both = ok[:, :-1] & ok[:, 1:]
    den = float(np.sqrt(level_part[:, :-1] * level_part[:, 1:])[both].sum())
    if both.sum() < 30 or den <= 0:
        return out
    rho = min(float((s[:, :-1] * s[:, 1:])[both].sum()) / den, MAX_PERSISTENCE)
    if rho <= 0:
        return out
    shape = 1.0 / np.maximum(base.dispersion, 1e-6)
    level = (shape + y[:, -1]) / (shape + m[:, -1])
    carry = np.abs(s[:, -1]) <= OUTBREAK_RESIDUAL
    out[:, 0] = np.where(carry, level**rho, 1.0)
    out[:, 1] = np.where(carry, 1.0 - rho**2, 1.0)
    return out


def predictive(base: Baseline) -> Baseline:
    """The baseline's dispersion as a prediction for a new day: a(1 + 1/d), a unbiased.

    The share is the mean of d history days whose levels each vary by a (the day-to-day
    dispersion), so it is itself off by a/d; today's level varies by a around the true share,
    hence a + a/d about the estimate (as a prediction interval's σ²(1 + 1/n)). And the moment
    estimate of a measured the days around that same fitted share, which absorbs one day's
    worth of their spread: it is a(d − 1)/d, so it is first scaled by d/(d − 1) (Bessel's
    correction). Together (d + 1)/(d − 1): +7 % with four weeks of history, two thirds more
    with four days, when shares are least known. Plus the share's counting error
    (``share_uncertainty``).
    """
    if base.days <= 0:
        return base
    factor = 1.0 + 1.0 / base.days
    if base.days >= 2:  # Bessel: the residuals were taken around a share fitted on those days
        factor *= base.days / (base.days - 1.0)
    return replace(
        base,
        dispersion=base.dispersion * factor + share_uncertainty(base),
        pooled_dispersion=base.pooled_dispersion * factor,
    )


def share_uncertainty(base: Baseline) -> np.ndarray:
    """Per key, the relative variance of its share from counting alone, 1/(n + 1) over its n
    history complaints (a Poisson count's 1/n, one pseudo-complaint so n = 0 stays finite).

    The level's a/d above is the share's error from day levels; a key seen 8 times in four days
    also has its share off by a third from which days those 8 happened to fall on. It fades
    with n: 1 % at a hundred complaints. A baseline without a mean total (no counts) adds 0."""
    if base.mean_total <= 0:
        return np.zeros_like(base.dispersion)
    seen = base.shares * base.mean_total * base.days
    return 1.0 / (seen + 1.0)
