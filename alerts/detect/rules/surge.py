"""Surge: a key's recent count is improbably high against its own expected level.

Expected count of key k in a window W (see alerts/detect/stats.py for the references):

    mu_k(W) = r_k · E(W) · g_k

- r_k: the key's share of all complaints over the last ``history_days`` complete local days,
  past outbreak days down-weighted (Farrington 1996; Noufaily et al. 2013).
- E(W): the expected total in W from an hour-of-day profile per day type (workday, rest day,
  public holiday; 调休 make-up workdays count as workdays) learnt from the same history, with
  chinesecalendar plus the configured holiday table deciding each day's type, spread over the
  hour's 5-minute buckets as history shows (sources that stamp the hour or the day only).
- g_k: a nowcast, the other keys' observed total over the last ``nowcast_minutes`` divided by
  its expectation, so a holiday or a quiet Sunday that the profile gets wrong cancels out
  (the space-time permutation idea of Kulldorff et al. 2005).

The count is tested against a negative binomial with the key's dispersion (over-dispersion
far above Poisson is the norm), and must also clear ``min_count``, ``min_excess`` and
``min_ratio`` so sparse series (a complaint a week) cannot alert on one or two complaints.
With ``local_level_hours`` the day-to-day part of that dispersion is learnt from the key's own
count earlier the same local day (a gamma-Poisson update, see ``local_level``): a busy key's
loud day raises its expectation, and what is left is the much narrower within-day spread, so
moderate surges on busy keys become visible without alerting on their ordinary busy days.
A CUSUM stage (Page 1954) over rolling 24-hour counts against a baseline that ends
``cusum_guard_days`` ago catches slow rises over days that no single window shows; it sums
NB normal scores (alerts/detect/stats.nb_normal_scores) so over-dispersed keys do not drift upwards.
Each key's own busy hours (``hour_factors``) raise its expectation where it peaks when the
company does not, and a count that is one repost thread on a clustered channel must also be
improbable as such (``alerts.detect.stats.borel_tail_p``): docs/DETECTION.md has both.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
from scipy import special

from alerts.detect.findings import Finding, expected_text, window_text
from alerts.detect.rules.base import (
    CountReader,
    DailyFit,
    Key,
    RuleContext,
    build_finding,
    complete,
    window_bounds,
)
from alerts.detect.rules.threshold import describe_key
from alerts.detect.share import ShareFit, fit_shares, share_of, share_tail_p, split
from alerts.detect.stats import (
    MAX_CONDITIONED_SHARE,
    Baseline,
    borel_tail_p,
    burst_dispersion,
    cells_of_rows,
    cluster_tail_p,
    clustering_of,
    conditional_expected,
    cusum,
    day_persistence,
    dense_hourly,
    fit_baseline,
    hour_and_day_sums,
    live_days_of_cells,
    nb_normal_scores,
    nb_upper_p,
    predictive,
    quiet_counts_of,
    within_day_dispersion,
)
from config.rules import SurgeRule
from domain.buckets import BUCKET
from domain.calendar import HOLIDAY, RESTDAY, WORKDAY

DAY = timedelta(days=1)
NOWCAST_PSEUDO = 5.0  # complaints: with fewer observed, trust the profile more than the nowcast
RESTDAY_FALLBACK = 0.6  # rest-day volume relative to workdays before any rest day is seen
HOLIDAY_FALLBACK = 0.5  # holiday volume relative to rest days before any holiday is seen
MAX_SCORE = 99.0
# A day type the history has not seen (the first holiday in four weeks, often Spring Festival)
# borrows another type's profile scaled by a guess; say so in the level's spread, so the
# key's own count earlier today corrects the guess quickly and a wrong guess does not page.
UNSEEN_DAY_DISPERSION = 0.5
# the nowcast may lift the expectation freely but lower it only to half: a quiet day among a few
# big keys is noise, and true holiday lulls are already in the day-type profile
NOWCAST_MIN, NOWCAST_MAX = 0.5, 10.0
SCALAR_KEYS = 24  # candidates up to this many are computed with floats, more with arrays
BUCKETS_PER_HOUR = 12
WITHIN_HOUR_PSEUDO = 24.0  # complaints per hour of prior weight on an even within-hour spread
# a pool whose quiet hours vary this much more than single arrivals would (alerts.detect.stats
# .clustering_index) has its own cluster-size tails tested too (the pool's quiet hours, and a
# Borel thread size: alerts.detect.stats.borel_tail_p): past events alone, in a pool of single
# arrivals, must not make its next event look routine (tuning streams: 1.00-1.06 where
# complaints arrive one by one, 1.2-2 with repost threads)
CLUSTERED = 1.15
# complaints of prior weight on the all-key hour-of-day shape when a key's own shape is learnt
# (``hour_factors``): a key needs a few weeks of a few complaints a day before its own evening
# or lunchtime peak moves its expectation
HOUR_SHAPE_PSEUDO = 60.0


def nb_upper_p_scalar(x: float, mu: float, dispersion: float) -> float:
    """``alerts.detect.stats.nb_upper_p`` of one count: the same clamps and scipy kernels on Python
    floats, so the same number without the array overhead (a tick tests a few keys)."""
    if x <= 0:
        return 1.0
    mu = max(mu, 1e-9)
    if dispersion < 1e-6:
        return float(special.pdtrc(x - 1, mu))
    size = 1.0 / max(dispersion, 1e-9)
    return float(special.betainc(max(x, 1), size, mu / (size + mu)))


def burst_tail_p(x: float, mu: float, burst: float) -> float:
    """P(count >= x) when only the burst part of the spread is drawn from a lognormal with the
    same variance as the gamma of the NB (Limpert et al. 2001): real bursts (a retweet wave)
    have a heavier tail than the gamma's exponential one, so a bursty key's 4x half hour is
    ordinary while a hotline key (burst ≈ 0) keeps the NB test alone."""
    if burst <= 1e-6 or x <= mu:
        return 0.0
    sigma2 = math.log1p(burst)
    z = (math.log(x / max(mu, 1e-9)) + sigma2 / 2) / math.sqrt(sigma2)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def hourly_profile(hourly: np.ndarray, day_types: list[int]) -> np.ndarray:
    """Mean complaints per local hour for each day type (3 × 24), with fallbacks for unseen types.

    ``hourly`` is days × 24 totals; days without any complaint (before the data starts) are
    skipped. A day type never seen borrows another's profile scaled by a conservative factor.
    """
    profile = np.full((3, 24), np.nan)
    live = hourly.sum(axis=1) > 0
    types = np.asarray(day_types)
    for kind in (WORKDAY, RESTDAY, HOLIDAY):
        rows = hourly[live & (types == kind)]
        if len(rows):
            profile[kind] = rows.mean(axis=0)
    if np.isnan(profile[WORKDAY]).all():
        seen = next(
            (profile[k] for k in (RESTDAY, HOLIDAY) if not np.isnan(profile[k]).all()), None
        )
        profile[WORKDAY] = seen if seen is not None else np.ones(24)
    if np.isnan(profile[RESTDAY]).all():
        profile[RESTDAY] = profile[WORKDAY] * RESTDAY_FALLBACK
    if np.isnan(profile[HOLIDAY]).all():
        profile[HOLIDAY] = profile[RESTDAY] * HOLIDAY_FALLBACK
    # a small floor keeps hours that were empty in history from having zero expectation
    floor = max(profile[WORKDAY].mean() * 0.02, 1e-3)
    return np.maximum(profile, floor)


def hour_factors(hourly: np.ndarray, shape: np.ndarray, pseudo: float) -> np.ndarray:
    """Per key, how much busier each local hour is than the all-key shape says (keys × 24).

    ``hourly`` is keys × days × 24, ``shape`` days × 24 (each hour's share of its day). A
    product sold through an evening app or bought at lunchtime peaks when the company does
    not; judged against the company's office hours its ordinary evening looks like a surge,
    and its quiet office hours make its level look low. The observed over the expected count
    of each hour (and its two neighbours: peaks are hours wide) is shrunk towards 1 with
    ``pseudo`` complaints spread as the company's shape, so a sparse key keeps the company's.
    """
    y = np.asarray(hourly)
    # einsum: 3x faster than .sum over these short axes, the same exact integers
    return hour_factors_of_sums(np.einsum("kdh->kh", y), np.einsum("kdh->kd", y), shape, pseudo)


def hour_factors_of_sums(
    by_hour: np.ndarray, by_day: np.ndarray, shape: np.ndarray, pseudo: float
) -> np.ndarray:
    """``hour_factors`` from each key's counts per hour of day (keys × 24) and per day
    (keys × days), which is all it reads of the hourly counts."""
    if by_hour.size == 0:
        return np.ones((by_hour.shape[0], 24))
    # counts: their sums are exact as integers, so the same in floats converted afterwards
    observed = np.asarray(by_hour).astype(float)
    expected = np.asarray(by_day).astype(float) @ shape  # each day's count as the company's
    observed = observed + np.roll(observed, 1, axis=1) + np.roll(observed, -1, axis=1)
    expected = expected + np.roll(expected, 1, axis=1) + np.roll(expected, -1, axis=1)
    mean_shape = shape.mean(axis=0)
    prior = pseudo * (mean_shape + np.roll(mean_shape, 1) + np.roll(mean_shape, -1))
    return (observed + prior[None, :]) / (expected + prior[None, :])


def within_hour_shape(fine: np.ndarray) -> np.ndarray:
    """Share of each local hour's complaints per 5-minute bucket (24 × 12, rows sum to 1).

    ``fine`` is days × 288 totals. Exports stamped with the hour or the day only put an hour's
    (or a day's) complaints in its first bucket; spreading the hourly profile evenly would then
    expect a twelfth of them there and every batch would look like a surge. The shape is pooled
    over all days (it describes how the source stamps times, not the day type) and shrunk to
    even with ``WITHIN_HOUR_PSEUDO`` complaints per hour, so a thin history stays even.
    """
    per_bucket = fine.reshape(-1, 24, BUCKETS_PER_HOUR).sum(axis=0)
    even = WITHIN_HOUR_PSEUDO / BUCKETS_PER_HOUR
    shape = per_bucket + even
    return shape / shape.sum(axis=1, keepdims=True)


def local_level(
    mu: float, dispersion: float, observed: float, expected: float, floor: float
) -> tuple[float, float]:
    """Expected count and NB dispersion of a window given the key's own count just before it.

    Day-to-day over-dispersion is a level that holds for hours: model it as a gamma multiplier
    (mean 1, variance ``dispersion``) on the baseline and update it with the key's count in the
    reference period before the window (conjugate gamma-Poisson, e.g. Gelman et al., Bayesian
    Data Analysis, ch. 2.6). The window's predictive law is then NB with the posterior mean level
    and dispersion 1/(shape + observed): a busy key's quiet or loud day is learnt within hours,
    while a sparse key keeps its prior. ``floor`` keeps some within-day over-dispersion.
    """
    shape = 1.0 / max(dispersion, 1e-6)
    level = (shape + observed) / (shape + max(expected, 0.0))
    return mu * level, max(1.0 / (shape + observed), floor)


def local_level_array(
    mu: np.ndarray,
    dispersion: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``local_level`` elementwise over arrays (the same operations, so the same numbers)."""
    shape = 1.0 / np.maximum(dispersion, 1e-6)
    level = (shape + observed) / (shape + np.maximum(expected, 0.0))
    return mu * level, np.maximum(1.0 / (shape + observed), floor)


class SurgeEvaluator:
    def __init__(self, rule: SurgeRule, context: RuleContext | None = None):
        self.rule = rule
        self.name = rule.name
        self.context = context or RuleContext()
        self._fit = DailyFit()
        self._grid_start: datetime | None = None
        self._midnight: datetime | None = None
        self._cum_expected = np.zeros(1)
        self._cum_list: list[float] = [0.0]
        self._index: dict[Key, int] = {}
        self._base: Baseline | None = None
        self._shares: list[float] = []
        self._dispersions: list[float] = []
        self._carry: list[tuple[float, float]] = []  # per baseline key: stats.day_persistence
        self._lag_index: dict[Key, int] = {}
        self._lag: Baseline | None = None
        self._cusum_at: datetime | None = None
        self._cusum_hits: list[tuple[Key, int, float, float]] = []
        # per baseline key: within-day (burst) dispersion of hours and of six hours; per pool
        # (channel) the values of a key first seen after the fit
        self._within: list[tuple[float, float]] = []
        self._pool_default: dict[str, tuple[float, float, float]] = {}
        self._quiet: dict[str, np.ndarray] = {}  # per pool: alerts.detect.stats.quiet_hour_counts
        self._unseen_day = 0.0  # extra level dispersion today: see UNSEEN_DAY_DISPERSION
        self._clustering: list[float] = []  # per baseline key: alerts.detect.stats.clustering_index
        self._thread_channels: dict[str, float] = {}  # channel -> φ where it is clustered
        self._factors = np.ones((0, 24))  # per baseline key: hour_factors
        self._key_cum: dict[int, list[float]] = {}  # per baseline row: its own _cum_list
        self._grid_parts: list[tuple[np.ndarray, np.ndarray]] = []  # per grid day: profile, shape
        self._share_fit: ShareFit | None = None  # rule.share_of: alerts.detect.share
        self._share_keys: dict[Key, tuple[Key, float, float]] = {}  # _share_fit's, by key

    # -- baseline, refreshed once per local day and after late history ----------------------
    def history_changed(self, before: datetime) -> None:
        """Complaints received from ``before`` on were stored late: see ``DailyFit``."""
        self._fit.history_changed(before)

    def _refresh(self, reader: CountReader, now: datetime) -> None:
        rule, cal = self.rule, self.context.calendar
        local = cal.local(now)
        if not self._fit.due(local, now):
            return
        # in UTC, so that whole days back are 24 hours each: in a zone with daylight saving a
        # local midnight 28 days ago is an hour off, and the day grids below would not fit
        day_start = self._fit.fitted(local, now).astimezone(UTC)
        self._midnight = day_start  # today's local midnight, for the local-level reference
        guard = rule.cusum_guard_days if rule.cusum else 0
        span = rule.history_days + guard
        since = day_start - span * DAY
        keys, daily = reader.series(rule.group_by, since, day_start, 1440, rule.filters)
        _, total = reader.series([], since, day_start, 1440, rule.filters)
        totals = total[0] if len(total) else np.zeros(span)
        h = rule.history_days
        self._index = {k: i for i, k in enumerate(keys)}
        self._base = fit_baseline(daily[:, -h:], totals[-h:], rule.downweight_threshold)
        persistence = day_persistence(daily[:, -h:], totals[-h:], self._base)
        self._carry = list(map(tuple, persistence.tolist()))
        self._base = predictive(self._base)
        self._fit_share(keys, daily[:, -h:])
        self._shares = self._base.shares.tolist()  # Python floats for the few-key arithmetic
        self._dispersions = self._base.dispersion.tolist()
        self._lag_index = self._index
        self._lag = (
            fit_baseline(daily[:, : span - guard], totals[: span - guard]) if guard else None
        )
        recent = day_start - h * DAY
        _, fine = reader.series([], recent, day_start, 5, rule.filters)
        fine = fine[0].reshape(h, 24 * BUCKETS_PER_HOUR) if len(fine) else np.zeros((h, 288))
        hourly = fine.reshape(h, 24, BUCKETS_PER_HOUR).sum(axis=2)
        types = [cal.block_type(recent + i * DAY) for i in range(h)]
        profile = hourly_profile(hourly, types)
        today = cal.block_type(day_start)
        seen = any(t == today and n > 0 for t, n in zip(types, hourly.sum(axis=1), strict=True))
        self._unseen_day = 0.0 if seen else UNSEEN_DAY_DISPERSION
        shape = within_hour_shape(fine)
        self._within_day(reader, recent, day_start, profile, types)
        # expected total per 5-minute bucket from yesterday's midnight to tomorrow's
        self._grid_start = day_start - DAY
        per_bucket = []
        self._grid_parts = []
        for d in range(3):
            kind = cal.block_type(self._grid_start + d * DAY)
            per_bucket.append((profile[kind][:, None] * shape).ravel())
            self._grid_parts.append((profile[kind], shape))
        self._cum_expected = np.concatenate([[0.0], np.cumsum(np.concatenate(per_bucket))])
        self._cum_list = self._cum_expected.tolist()

    def _within_day(
        self,
        reader: CountReader,
        since: datetime,
        until: datetime,
        profile: np.ndarray,
        types: list[int],
    ) -> None:
        """Each baseline key's within-day dispersion of hours and of six hours and its
        clustering (``alerts.detect.stats``), in ``self._index`` order, and per pool (channel) the
        values a key first seen later takes, and the quiet-hour counts of its cluster tail."""
        rule = self.rule
        keys, cell_rows, bins, counts = reader.series_cells(
            rule.group_by, since, until, 60, rule.filters
        )
        days = len(types)
        by_scale = np.zeros((2, len(self._index)))
        clustering = np.ones(len(self._index))
        factors = np.ones((len(self._index), 24))
        self._pool_default = {}
        self._quiet = {}
        if len(keys):
            shape = profile[types] / profile[types].sum(axis=1, keepdims=True)
            rows = np.array([self._index.get(key, -1) for key in keys])
            known = rows >= 0
            by_hour, by_day = hour_and_day_sums(cell_rows, bins, counts, len(keys), days)
            factors[rows[known]] = hour_factors_of_sums(
                by_hour[known], by_day[known], shape, HOUR_SHAPE_PSEUDO
            )
            totals = by_day.sum(axis=1)
            # keys of one channel share their pooled value: a sparse social key is as bursty
            # as social keys are, not as the hotline keys that dominate the rule's total
            names = [self._channel_of(key) for key in keys]
            name_array = np.array(names)
            for name in sorted(set(names)):
                members = np.flatnonzero((name_array == name) & known)
                # only keys with two complaints a day or more have a within-day dispersion of
                # their own; one empty key after them takes the pool's value (see the function)
                busy = totals[members] >= 2 * days
                block = dense_hourly(cell_rows, bins, counts, members[busy], days, extra=1)
                for n, hours in enumerate((1, 6)):
                    found = within_day_dispersion(block, shape, hours)
                    values = np.full(len(members), found[-1])
                    values[busy] = found[:-1]
                    by_scale[n, rows[members]] = values
                days_of = live_days_of_cells(
                    *cells_of_rows(cell_rows, bins, counts, members), shape
                )
                clustering[rows[members]] = clustering_of(days_of)
                self._quiet[name] = quiet_counts_of(days_of)
                if len(members):  # a key first seen later takes its channel's usual values
                    values = by_scale[:, rows[members]]
                    self._pool_default[name] = (
                        float(np.median(values[0])), float(np.median(values[1])),
                        float(np.median(clustering[rows[members]])),
                    )  # fmt: skip
        # by_scale has two rows, so each column is a pair
        self._within = cast("list[tuple[float, float]]", list(map(tuple, by_scale.T.tolist())))
        self._clustering = clustering.tolist()
        self._factors = factors
        self._key_cum = {}
        self._thread_channels = {}
        if "channel" not in rule.group_by and len(keys):
            # a rule not keyed by channel still sees one channel's repost thread (social media)
            by, key_rows, bins, counts = reader.series_cells(
                [*rule.group_by, "channel"], since, until, 60, rule.filters
            )
            if len(by):
                channel_of = np.array([key[-1] for key in by])
                # once, then split by channel
                days_of = live_days_of_cells(key_rows, bins, counts, shape)
                for name in sorted(set(channel_of.tolist())):
                    phi = clustering_of(days_of.select(channel_of[days_of.key] == name))
                    if phi >= CLUSTERED:
                        self._thread_channels[name] = phi

    def _channel_of(self, key: Key) -> str:
        """The pool a key's burstiness is shared with: its channel, or one pool for the rule."""
        group_by = self.rule.group_by
        return key[group_by.index("channel")] if "channel" in group_by else ""

    def _burst_of(self, key: Key, row: int | None) -> tuple[float, float, float]:
        """(hourly, six-hourly within-day dispersion, clustering) of a key, or of its pool."""
        if row is not None:
            return (*self._within[row], self._clustering[row])
        return self._pool_default.get(self._channel_of(key), (0.0, 0.0, 1.0))

    def _thread_p(
        self, reader: CountReader, key: Key, since: datetime, until: datetime, x: float, mu: float
    ) -> float:
        """When most of a window's complaints came on one clustered channel (a repost thread
        on social media), how likely that channel's threads alone make its share of the count
        (``borel_tail_p``, the key's whole expectation as the thread rate: generous)."""
        rule = self.rule
        by_channel = reader.window_counts([*rule.group_by, "channel"], since, until, rule.filters)
        best, channel = 0, ""
        for name in self._thread_channels:
            n = by_channel.get((*key, name), 0)
            if n > best:
                best, channel = n, name
        if best * 2 < x:
            return 0.0
        return borel_tail_p(best, mu, self._thread_channels[channel])

    def _cum_of(self, row: int | None) -> list[float]:
        """The cumulative expected all-key count per grid bucket as this key's hours see it:
        the company's, each hour scaled by the key's ``hour_factors`` normalised so the key's
        day holds its share of the company's day, and never below the company's hour. Raising
        only: an evening product's evening is expected, while an hour the key was merely quiet
        in (noise, or a few weeks without night-time complaints) does not become one where any
        burst pages (docs/DETECTION.md has the figures of both ways)."""
        if row is None or not len(self._factors):
            return self._cum_list
        cum = self._key_cum.get(row)
        if cum is None:
            factor = self._factors[row]
            parts = []
            for hours, within in self._grid_parts:
                scaled = hours * factor * (hours.sum() / (hours * factor).sum())
                scaled = np.maximum(scaled, hours)
                parts.append((scaled[:, None] * within).ravel())
            cum = np.concatenate([[0.0], np.cumsum(np.concatenate(parts))]).tolist()
            self._key_cum[row] = cum
        return cum

    def _window_hours(self, i: int, j: int) -> float:
        """How many hours' worth of independent bursts the expected count of buckets [i, j) of
        the grid holds: (Σ M)² / Σ M² over its hours M (3 h of night and one busy morning hour
        are about one hour), the window's own length below an hour."""
        if j - i < BUCKETS_PER_HOUR:
            return (j - i) / BUCKETS_PER_HOUR
        cum = self._cum_list
        hours = [cum[min(b + BUCKETS_PER_HOUR, j)] - cum[b] for b in range(i, j, BUCKETS_PER_HOUR)]
        total, squares = sum(hours), sum(h * h for h in hours)
        return max(total * total / squares, 1.0) if squares > 0 else (j - i) / BUCKETS_PER_HOUR

    def expected_total(self, since: datetime, until: datetime) -> float:
        """Expected all-key count in [since, until) from the day-type hourly profile."""
        assert self._grid_start is not None
        last = len(self._cum_expected) - 1
        # floor division: the same bucket as int() of the ratio wherever the clamp lets it count
        i = min(max((since - self._grid_start) // BUCKET, 0), last)
        j = min(max((until - self._grid_start) // BUCKET, 0), last)
        return float(self._cum_expected[j] - self._cum_expected[i])

    # -- the short-window test ----------------------------------------------------------------
    def _short_hits(self, reader: CountReader, now: datetime) -> dict[Key, dict]:
        rule, base = self.rule, self._base
        assert base is not None and self._grid_start is not None
        group_by, filters, min_count = rule.group_by, rule.filters, rule.min_count
        nowcast = min(max(rule.nowcast_minutes, max(rule.windows_minutes)), 1440)
        n_since, until = window_bounds(now, nowcast)
        counts_n = reader.window_counts(group_by, n_since, until, filters, min_count)
        # every window lies inside the nowcast window: a key below min_count there is below it
        # in every window, so a tick without such a key cannot hit (most ticks, most rules)
        if not any(complete(key) for key in counts_n):
            return {}
        total_n = sum(reader.window_counts([], n_since, until, filters).values())
        # expected totals as differences of the cumulative profile (expected_total, inlined:
        # the bucket of a moment is its whole 5-minute steps from the grid start, floored)
        cum, last, grid = self._cum_list, len(self._cum_list) - 1, self._grid_start
        j = min(max((until - grid) // BUCKET, 0), last)
        i = min(max((n_since - grid) // BUCKET, 0), last)
        expected_n = cum[j] - cum[i]
        local = rule.local_level_hours * 60 if rule.local_level_hours else None
        midnight = None
        if local is not None:
            midnight = self._midnight  # set by _refresh for this tick's local day
            back = timedelta(minutes=local)
        # every window's candidates (key, count), then the arithmetic once for all of them
        keys: list[Key] = []
        x_list: list[int] = []
        tested: list[tuple[datetime, int]] = []  # (since, window) of each candidate
        expected_w: list[float] = []
        spans: list[tuple[int, int]] = []  # each candidate's window as grid buckets [i, j)
        ref_counts: list[int] = []
        ref_starts: list[int] = []  # each candidate's local-level reference start bucket
        ref_expected: list[float] = []
        carried: list[bool] = []  # whether yesterday's level may inform the window (see below)
        carry: list[tuple[float, float]] = []  # (centre, factor): stats.day_persistence
        for window in rule.windows_minutes:
            since, _ = window_bounds(now, window)
            if window == nowcast:
                counts = counts_n
            else:
                counts = reader.window_counts(group_by, since, until, filters, min_count)
            window_keys = [key for key, x in counts.items() if x >= min_count and complete(key)]
            if not window_keys:
                continue
            n = len(window_keys)
            keys += window_keys
            x_list += [counts[key] for key in window_keys]
            tested += [(since, window)] * n
            i = min(max((since - grid) // BUCKET, 0), last)
            spans += [(i, j)] * n
            if local is not None:
                assert midnight is not None
                # today's level only: a quiet or busy yesterday says little about today, so a
                # window reaching back over midnight keeps the baseline (an empty reference)
                ref_since = min(max(since - back, midnight), since)
                ref_counts += reader.counts_of_keys(
                    group_by, ref_since, since, window_keys, filters
                )
                r = min(max((ref_since - grid) // BUCKET, 0), last)
                ref_starts += [r] * n
                # a window reaching back before midnight holds part of yesterday itself
                carried += [since >= midnight] * n
        if not keys:
            return {}
        # the per-key arithmetic over all candidates: the same IEEE operations key by key or
        # elementwise, so the same numbers (a few keys: plain floats; thousands at 10×: arrays)
        index = self._index
        rows = [index.get(k) for k in keys]
        key_cum = self._key_cum
        for n, row in enumerate(rows):
            own = (key_cum.get(row) or self._cum_of(row)) if row is not None else cum
            i, j = spans[n]
            expected_w.append(own[j] - own[i])
            if local is not None:
                ref_expected.append(own[i] - own[ref_starts[n]])
                carry.append(self._carry[row] if carried[n] and row is not None else (1.0, 1.0))
        others_list = [total_n - counts_n.get(k, 0) for k in keys]
        min_excess, min_ratio = rule.min_excess, rule.min_ratio
        inputs = (rows, others_list, expected_n, expected_w, ref_counts, ref_expected, local, carry)
        if len(keys) <= SCALAR_KEYS:
            mu, disp = self._expected_scalar(*inputs)
            test = [
                n for n, (x, m) in enumerate(zip(x_list, mu, strict=True))
                if not (float(x) - m < min_excess or float(x) < min_ratio * m)
            ]  # fmt: skip
        else:
            mu, disp = self._expected_array(*inputs)
            x = np.array(x_list, dtype=float)
            test = np.flatnonzero(~((x - mu < min_excess) | (x < min_ratio * mu)))
            test = test.tolist()
        hits: dict[Key, dict] = {}
        if not test:
            return hits
        # how bursty each tested key is over its window (few candidates pass the tests above)
        hours_of: dict[tuple[int, int], float] = {}
        bursts: dict[int, float] = {}
        phi: dict[int, float] = {}  # complaints that arrive in clusters are tested in clusters
        disp = list(disp)
        for n in test:
            span = spans[n]
            if span not in hours_of:
                hours_of[span] = self._window_hours(*span)
            hourly, six_hourly, clustering = self._burst_of(keys[n], rows[n])
            bursts[n] = burst_dispersion(hourly, six_hourly, hours_of[span])
            disp[n] = max(float(disp[n]), bursts[n])
            phi[n] = clustering
        if len(test) <= SCALAR_KEYS:
            p_values = [
                nb_upper_p_scalar(float(x_list[n]) / phi[n], float(mu[n]) / phi[n], float(disp[n]))
                for n in test
            ]
        else:
            p_values = nb_upper_p(
                np.array([float(x_list[n]) / phi[n] for n in test]),
                np.array([mu[n] / phi[n] for n in test], dtype=float),
                np.array([disp[n] for n in test], dtype=float),
            ).tolist()
        alpha = rule.alpha
        for n, p in zip(test, p_values, strict=True):
            if p >= alpha:
                continue
            x_n, mu_n = float(x_list[n]), float(mu[n])
            p = max(p, burst_tail_p(x_n, mu_n, bursts[n]))
            pool = self._channel_of(keys[n])
            if self._pool_default.get(pool, (0.0, 0.0, 1.0))[2] >= CLUSTERED:
                p = max(p, cluster_tail_p(x_n, mu_n, self._quiet.get(pool, np.zeros(0))))
                p = max(p, borel_tail_p(x_n, mu_n, phi[n]))
            # also where the rule's own pool looks clustered: mixing a clustered channel with
            # the others dilutes its φ, so the pool's tests are weaker than the channel's own
            if self._thread_channels and p < alpha:
                p = max(p, self._thread_p(reader, keys[n], tested[n][0], until, x_n, mu_n))
            if p >= alpha:
                continue
            key = keys[n]
            if key not in hits or p < hits[key]["p"]:
                since, window = tested[n]
                hits[key] = {"p": p, "count": x_list[n], "expected": float(mu[n]), "since": since,
                             "until": until, "window": window, "dispersion": float(disp[n]),
                             "clustering": phi[n]}  # fmt: skip
        return hits

    def _expected_scalar(
        self,
        rows: list[int | None],
        others: list[int],
        expected_n: float,
        expected_w: list[float],
        ref_counts: list[int],
        ref_expected: list[float],
        local: int | None,
        carry: list[tuple[float, float]],
    ) -> tuple[list[float], list[float]]:
        """mu and dispersion of each candidate with Python floats (few keys: no array overhead)."""
        base = self._base
        assert base is not None
        shares, dispersions = self._shares, self._dispersions
        floor_share, pooled = float(base.floor_share), float(base.pooled_dispersion)
        mus: list[float] = []
        disps: list[float] = []
        unseen = self._unseen_day
        for n, i in enumerate(rows):
            share = shares[i] if i is not None else floor_share
            disp = (dispersions[i] if i is not None else pooled) + unseen
            g = (float(others[n]) + NOWCAST_PSEUDO) / ((1 - share) * expected_n + NOWCAST_PSEUDO)
            if share > MAX_CONDITIONED_SHARE:  # the others are too few to say how today goes
                g = 1.0
            scale = share * min(max(g, NOWCAST_MIN), NOWCAST_MAX)
            mu = scale * expected_w[n]
            if local is not None:
                centre, factor = carry[n]  # yesterday's level, where days persist
                mu, disp = local_level(
                    mu * centre, (disp - unseen) * factor + unseen, float(ref_counts[n]),
                    scale * ref_expected[n] * centre, self.rule.local_dispersion,
                )  # fmt: skip
            mus.append(mu)
            disps.append(disp)
        return mus, disps

    def _expected_array(
        self,
        rows: list[int | None],
        others: list[int],
        expected_n: float,
        expected_w: list[float],
        ref_counts: list[int],
        ref_expected: list[float],
        local: int | None,
        carry: list[tuple[float, float]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """``_expected_scalar`` elementwise over arrays (the same operations, the same numbers)."""
        base = self._base
        assert base is not None
        shares, dispersions = self._shares, self._dispersions  # lists: no numpy scalar per key
        floor_share, pooled = float(base.floor_share), float(base.pooled_dispersion)
        share = np.array([shares[i] if i is not None else floor_share for i in rows])
        disp = np.array([dispersions[i] if i is not None else pooled for i in rows])
        disp = disp + self._unseen_day
        g = (np.array(others, dtype=float) + NOWCAST_PSEUDO) / (
            (1 - share) * expected_n + NOWCAST_PSEUDO
        )
        g = np.where(share > MAX_CONDITIONED_SHARE, 1.0, g)
        scale = share * np.minimum(np.maximum(g, NOWCAST_MIN), NOWCAST_MAX)
        mu = scale * np.array(expected_w)
        if local is not None:
            centre, factor = np.array(carry, dtype=float).reshape(-1, 2).T
            mu, disp = local_level_array(
                mu * centre, (disp - self._unseen_day) * factor + self._unseen_day,
                np.array(ref_counts, dtype=float), scale * np.array(ref_expected) * centre,
                self.rule.local_dispersion,
            )  # fmt: skip
        return mu, disp

    # -- the share of the parent key (rule.share_of), see alerts/detect/share.py ---------------
    def _share_split(self) -> tuple[list[int], list[int]]:
        group_by, parent = self.rule.group_by, self.rule.share_of
        parent_at = [group_by.index(d) for d in parent]
        return parent_at, [i for i in range(len(group_by)) if i not in parent_at]

    def _fit_share(self, keys: list[Key], daily: np.ndarray) -> None:
        if self.rule.share_of:
            self._share_fit = fit_shares(keys, daily, *self._share_split())
            self._share_keys = {}

    def _share_of_key(self, key: Key) -> tuple[Key, float, float]:
        """(parent, usual share, ρ) of a sub-key under today's fit: the same candidates come
        back tick after tick, so each key's are worked out once a day."""
        found = self._share_keys.get(key)
        if found is None:
            assert self._share_fit is not None
            parent, rest = split(key, *self._share_split())
            found = (parent, *share_of(self._share_fit, key, parent, rest))
            self._share_keys[key] = found
        return found

    def _share_hits(self, reader: CountReader, now: datetime) -> dict[Key, dict]:
        """Keys whose count in a window is improbable as a share of their parent's count there
        (``alerts.detect.share``), with the same guards as the surge test."""
        rule, fit = self.rule, self._share_fit
        if fit is None:
            return {}
        group_by, filters, min_count = rule.group_by, rule.filters, rule.min_count
        hits: dict[Key, dict] = {}
        # longest window first: a key below min_count there is below it in every shorter one,
        # so most ticks stop after one count
        for window in sorted(rule.windows_minutes, reverse=True):
            since, until = window_bounds(now, window)
            counts = reader.window_counts(group_by, since, until, filters, min_count)
            candidates = [k for k, x in counts.items() if x >= min_count and complete(k)]
            if not candidates:
                break
            parents = reader.window_counts(rule.share_of, since, until, filters, min_count)
            for key in candidates:
                x = float(counts[key])
                parent, share, rho = self._share_of_key(key)
                n = float(parents.get(parent, x))
                expected = n * share
                if x - expected < rule.min_excess or x < rule.min_ratio * expected:
                    continue
                phi = self._burst_of(key, self._index.get(key))[2]
                p = share_tail_p(x / phi, n / phi, share, rho, rule.alpha)
                if p < rule.alpha and self._thread_channels:
                    p = max(p, self._thread_p(reader, key, since, until, x, expected))
                if p >= rule.alpha or (key in hits and p >= hits[key]["p"]):
                    continue
                hits[key] = {"p": p, "count": int(x), "expected": expected, "since": since,
                             "until": until, "window": window, "parent_count": int(n),
                             "share": share, "share_rho": rho}  # fmt: skip
        return hits

    # -- the CUSUM stage, once per hour -------------------------------------------------------
    def _cusum_stage(
        self, reader: CountReader, now: datetime
    ) -> list[tuple[Key, int, float, float]]:
        rule, lag = self.rule, self._lag
        if lag is None or lag.days < rule.cusum_min_history_days:
            return []
        _, until = window_bounds(now, 5)
        hour = until.replace(minute=0)
        if self._cusum_at == hour:
            return self._cusum_hits
        self._cusum_at = hour
        since = until - rule.cusum_days * DAY
        keys, y = reader.series(rule.group_by, since, until, 1440, rule.filters)
        _, total = reader.series([], since, until, 1440, rule.filters)
        self._cusum_hits = []
        # only keys with cusum_min_daily in the last day can hit; the scores are per key, so
        # leaving the others out changes no result and saves the NB tails of thousands of keys
        rows: np.ndarray | list[int] = (
            np.flatnonzero(y[:, -1] >= rule.cusum_min_daily) if len(keys) else []
        )
        if not len(rows):
            return []
        keys, y = [keys[r] for r in rows], y[rows]
        idx = [self._lag_index.get(k) for k in keys]
        shares = np.array([lag.shares[i] if i is not None else lag.floor_share for i in idx])
        disp = np.array(
            [lag.dispersion[i] if i is not None else lag.pooled_dispersion for i in idx]
        )
        m = conditional_expected(shares[:, None], total[0][None, :] - y, lag.mean_total)
        z = nb_normal_scores(y, m, disp[:, None])
        s = cusum(z, rule.cusum_k)
        last, m_last = y[:, -1], m[:, -1]
        hit = (s >= rule.cusum_h) & (last >= rule.cusum_min_daily)
        hit &= last >= rule.cusum_min_ratio * m_last
        for i in np.flatnonzero(hit):
            if complete(keys[i]):
                self._cusum_hits.append((keys[i], int(last[i]), float(m_last[i]), float(s[i])))
        return self._cusum_hits

    def _share_finding(
        self, reader: CountReader, key_map: dict[str, str], hit: dict, score: float
    ) -> Finding:
        rule = self.rule
        parent: dict[str, str] = {d: key_map[d] for d in rule.share_of}
        return build_finding(
            rule, self.context, key=key_map,
            refs=reader.complaint_refs(key_map, hit["since"], hit["until"], filters=rule.filters),
            count=hit["count"], expected=hit["expected"], score=score,
            title=f"{describe_key(key_map)}：{window_text(hit['window'])}投诉 {hit['count']} 件，"
            f"占{describe_key(parent)}同期 {hit['parent_count']} 件的 "
            f"{hit['count'] / max(hit['parent_count'], 1):.0%}，通常约 {hit['share']:.0%}",
            since=hit["since"], until=hit["until"],
            details={"stage": "share", "window_minutes": hit["window"], "p_value": hit["p"],
                     "share_of": list(rule.share_of), "parent_count": hit["parent_count"],
                     "share": hit["share"], "share_rho": hit["share_rho"]},
        )  # fmt: skip

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]:
        rule = self.rule
        self._refresh(reader, now)
        if self._base is None:
            return []
        hits: dict[Key, dict] = {}
        if self._base.days >= rule.min_history_days:
            hits = self._short_hits(reader, now)
            for key, hit in self._share_hits(reader, now).items():
                if key not in hits or hit["p"] < hits[key]["p"]:
                    hits[key] = hit
        findings = []
        for key, hit in sorted(hits.items(), key=lambda kv: kv[1]["p"]):
            key_map: dict[str, str] = dict(zip(rule.group_by, key, strict=True))
            score = min(-math.log10(max(hit["p"], 1e-300)), MAX_SCORE)
            if "share" in hit:
                findings.append(self._share_finding(reader, key_map, hit, score))
                continue
            findings.append(
                build_finding(
                    rule, self.context, key=key_map,
                    refs=reader.complaint_refs(key_map, hit["since"], hit["until"],
                                               filters=rule.filters),
                    count=hit["count"], expected=hit["expected"], score=score,
                    title=f"{describe_key(key_map)}：{window_text(hit['window'])}投诉 {hit['count']} 件，"
                    f"预期 {expected_text(hit['expected'])} 件",
                    since=hit["since"], until=hit["until"],
                    details={"stage": "surge", "window_minutes": hit["window"],
                             "p_value": hit["p"], "dispersion": hit["dispersion"],
                             "clustering": hit["clustering"]},
                )
            )  # fmt: skip
        if rule.cusum:
            _, until = window_bounds(now, 5)
            for key, count, expected, s in self._cusum_stage(reader, now):
                if key in hits:
                    continue
                key_map = dict(zip(rule.group_by, key, strict=True))
                since = until - DAY
                findings.append(
                    build_finding(
                        rule, self.context, key=key_map,
                        refs=reader.complaint_refs(key_map, since, until, filters=rule.filters),
                        count=count, expected=expected, score=s,
                        title=f"{describe_key(key_map)}：近 24 小时投诉 {count} 件，"
                        f"预期 {expected_text(expected)} 件，连日上升",
                        since=since, until=until,
                        details={"stage": "cusum", "window_minutes": 1440, "cusum": s},
                    )
                )  # fmt: skip
        return findings
