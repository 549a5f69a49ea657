"""Two simple detectors that the real-data figure compares the product with (issue 18).

Both read one series' counts on a regular interval grid (5 minutes) and look at the trailing
hour (the interval and the 11 before it):

- fixed threshold: trailing-hour count >= mean + 4 sd of the trailing-hour counts over the first
  15 % of the series (a threshold a person would set once from a quiet stretch);
- same hour, previous 7 days: z = (trailing-hour count - mean) / sd of the trailing-hour counts at
  the same clock time on each of the previous 7 days, fires at z >= 3 (sd floored at 1: a count
  cannot be known finer; no alert before 7 days of history).

Consecutive alerting intervals are one alert: it fires when the series first crosses and re-arms
once it falls back below.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

INTERVAL = pd.Timedelta(minutes=5)
PER_HOUR = 12  # 5-minute intervals
PER_DAY = 288
FIXED_SHARE = 0.15
FIXED_SD = 4.0
SEASONAL_DAYS = 7
SEASONAL_Z = 3.0
SD_FLOOR = 1.0


def trailing_sum(counts: np.ndarray, width: int = PER_HOUR) -> np.ndarray:
    """Sum of each interval and the ``width - 1`` before it; NaN until ``width`` are known."""
    out = np.full(len(counts), np.nan)
    if len(counts) >= width:
        cumulative = np.concatenate([[0.0], np.cumsum(counts, dtype=float)])
        out[width - 1 :] = cumulative[width:] - cumulative[:-width]
    return out


def rising_edges(alerting: np.ndarray) -> list[int]:
    """Positions where a run of alerting intervals starts (one alert per run)."""
    mask = np.asarray(alerting, dtype=bool)
    before = np.concatenate([[False], mask[:-1]])
    return np.flatnonzero(mask & ~before).tolist()


def fixed_threshold(counts: np.ndarray, share: float = FIXED_SHARE, k: float = FIXED_SD,
                    width: int = PER_HOUR) -> list[int]:  # fmt: skip
    """Alert positions of the fixed threshold: mean + k sd of the first ``share`` of the series."""
    hourly = trailing_sum(counts, width)
    head = hourly[: max(int(len(hourly) * share), 1)]
    head = head[~np.isnan(head)]
    if len(head) < 2:
        return []
    limit = head.mean() + k * head.std(ddof=1)
    with np.errstate(invalid="ignore"):
        return rising_edges(hourly >= limit)


def same_hour_z(counts: np.ndarray, days: int = SEASONAL_DAYS, z: float = SEASONAL_Z,
                per_day: int = PER_DAY, width: int = PER_HOUR) -> list[int]:  # fmt: skip
    """Alert positions where the trailing hour is z sd above the same time on the previous days."""
    hourly = trailing_sum(counts, width)
    n = len(hourly)
    if n <= days * per_day:
        return []
    past = np.stack([np.concatenate([np.full(d * per_day, np.nan), hourly[: n - d * per_day]])
                     for d in range(1, days + 1)])  # fmt: skip
    with np.errstate(invalid="ignore"):
        mean = past.mean(axis=0)
        sd = np.maximum(past.std(axis=0, ddof=1), SD_FLOOR)
        score = (hourly - mean) / sd
        return rising_edges(np.nan_to_num(score, nan=-np.inf) >= z)


def regular(series: pd.DataFrame, interval: pd.Timedelta) -> pd.Series:
    """One series' counts (``interval_start``, ``count``) on a gapless grid, missing = 0."""
    counts = series.groupby("interval_start")["count"].sum().sort_index()
    grid = pd.date_range(counts.index[0], counts.index[-1], freq=interval)
    return counts.reindex(grid, fill_value=0)


PEERS: dict[str, Callable[[np.ndarray], list[int]]] = {
    "fixed threshold (mean + 4 sd of first 15 %)": fixed_threshold,
    "same hour, previous 7 days, z >= 3": same_hour_z,
}


def peer_alerts(counts: pd.DataFrame, detector: Callable[[np.ndarray], list[int]], interval: pd.Timedelta = INTERVAL,
                field_name: str = "product_code") -> list[dict]:  # fmt: skip
    """Alert lines (as the backtest writes them) of one peer over every series of ``counts``.

    An alert is stamped at the end of the interval that crossed: when its count is known.
    """
    lines: list[dict] = []
    for name, series in counts.groupby(field_name, sort=True):
        grid = regular(series, interval)
        for i in detector(grid.to_numpy(dtype=float)):
            fired = grid.index[i] + interval
            lines.append({"rule": "peer", "key": {field_name: name},
                          "fired_at": fired.isoformat(), "complaint_ids": []})  # fmt: skip
    return lines
