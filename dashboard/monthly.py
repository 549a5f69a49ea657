"""The branch's accountability month: the cycle's dates, upgraded complaints and the tallies.

Insurers' complaint rules close a branch's complaints on a fixed cycle (by default the cases
received from the 21st of one month to the 20th of the next), weigh them by the channel they
came through, and count a customer once per channel reached — a repeat on the same channel adds
nothing, an escalation to a higher channel (an *upgraded* complaint) or another channel adds
one. Pure functions over plain rows, so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Cycle:
    """Receipt days ``start`` to ``end``, both included, named by the month it closes in."""

    start: date
    end: date

    @property
    def name(self) -> str:
        return f"{self.end:%Y-%m}"

    @property
    def closing_day(self) -> date:
        """The day the cycle is closed and its report is due: the day after its last day."""
        return self.end + timedelta(days=1)


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def cycle_of(day: date, start_day: int) -> Cycle:
    """The cycle that holds ``day``; ``start_day`` 1 gives calendar months (≤ 28, every month
    has that day)."""
    if not 1 <= start_day <= 28:
        raise ValueError(f"cycle_start_day must be 1–28, got {start_day}")
    year, month = day.year, day.month
    if day.day < start_day:
        year, month = _shift_month(year, month, -1)
    start = date(year, month, start_day)
    next_year, next_month = _shift_month(year, month, 1)
    return Cycle(start, date(next_year, next_month, start_day) - timedelta(days=1))


def cycle_named(name: str, start_day: int) -> Cycle:
    """The cycle that closes in month ``name`` (``YYYY-MM``)."""
    try:
        year, month = (int(part) for part in name.split("-"))
        last = date(year, month, start_day) - timedelta(days=1) if start_day > 1 else None
        if last is None:
            next_year, next_month = _shift_month(year, month, 1)
            last = date(next_year, next_month, 1) - timedelta(days=1)
    except ValueError:
        raise ValueError(f"a cycle is named YYYY-MM, got {name!r}") from None
    return cycle_of(last, start_day)


def previous_cycle(cycle: Cycle, start_day: int) -> Cycle:
    return cycle_of(cycle.start - timedelta(days=1), start_day)


def same_cycle_last_year(cycle: Cycle, start_day: int) -> Cycle:
    return cycle_of(cycle.start.replace(year=cycle.start.year - 1), start_day)


def upgraded_ids(rows: pd.DataFrame, levels: Mapping[str, int], window: timedelta) -> set[int]:
    """Ids of complaints whose customer reached a lower channel level for the same product
    within ``window`` before: hotline first, then the regulator. Unkeyed rows and channels
    without a level take no part. ``rows``: id, customer_key, product_code, channel,
    received_at."""
    keyed = rows[rows["customer_key"] != ""]
    if keyed.empty:
        return set()
    keyed = keyed.sort_values(["customer_key", "product_code", "received_at", "id"])
    person = keyed.groupby(["customer_key", "product_code"], sort=False).ngroup().to_numpy()
    times = pd.to_datetime(keyed["received_at"], utc=True).to_numpy("datetime64[ns]")
    level = keyed["channel"].map(levels).to_numpy(dtype=float)  # NaN: no level, never lower
    upgraded = np.zeros(len(keyed), dtype=bool)
    # Compare each complaint with the one k places earlier, k = 1, 2, …: sorted by person and
    # time, once no pair k apart is the same person within the window, none further apart is.
    for k in range(1, len(keyed)):
        near = (person[k:] == person[:-k]) & (times[k:] - times[:-k] <= np.timedelta64(window))
        if not near.any():
            break
        upgraded[k:] |= near & (level[:-k] < level[k:])
    return set(keyed["id"].to_numpy()[upgraded].tolist())


SUMMARY_COLUMNS = (
    "branch",
    "received",
    "counted",
    "repeat",
    "upgraded",
    "multichannel",
    "overdue",
    "score",
    "prev",
    "last_year",
    "mom",
    "yoy",
)


@dataclass(frozen=True)
class MonthlyReport:
    cycle: Cycle
    previous: Cycle
    last_year: Cycle
    summary: pd.DataFrame  # one row per branch, SUMMARY_COLUMNS, plus a 合计 row last
    by_channel: pd.DataFrame  # branch × channel counted complaints
    weights: dict[str, float]
    as_of: datetime | None = None  # when overdue decisions were counted (and the rest, if live)
    frozen_at: datetime | None = None  # when the snapshot the rest came from was built

    @property
    def empty(self) -> bool:
        return int(self.summary["received"].sum()) == 0 if not self.summary.empty else True


def change(current: float, previous: float) -> float | None:
    """Relative change; None when there is nothing to compare with (never a fake 0 %)."""
    if previous <= 0:
        return None
    return (current - previous) / previous


TOTAL = "__total__"


def tally(
    counts: pd.DataFrame,
    upgraded: Mapping[str, int],
    overdue: Mapping[str, int],
    weights: Mapping[str, float],
    prev_totals: Mapping[str, int],
    last_year_totals: Mapping[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-branch summary and branch × channel counted complaints of one cycle.

    ``counts``: branch, channel, received, counted, repeat, multichannel (one row per pair).
    Weighted score = counted complaints × their channel's weight (1 for an unweighted one).
    A complaint without a branch is kept under "" (shown as 未标注机构)."""
    frame = counts.copy()
    # floats even when the cycle has no complaints yet (an empty map keeps the text type)
    weight = frame["channel"].map(lambda c: float(weights.get(c, 1.0))).astype(float)
    frame["score"] = frame["counted"] * weight
    columns = ["received", "counted", "repeat", "multichannel", "score"]
    summary = frame.groupby("branch", sort=True)[columns].sum()
    branches = sorted(set(summary.index) | set(prev_totals) | set(last_year_totals))
    summary = summary.reindex(branches, fill_value=0)
    for name, values in (
        ("upgraded", upgraded),
        ("overdue", overdue),
        ("prev", prev_totals),
        ("last_year", last_year_totals),
    ):
        summary[name] = [int(values.get(b, 0)) for b in branches]
    summary = summary.reset_index(names="branch")
    summary = summary[summary["received"] + summary["prev"] + summary["last_year"] > 0]
    summary = summary.sort_values(["score", "branch"], ascending=[False, True])
    if not summary.empty:
        total = summary.drop(columns="branch").sum(numeric_only=True).to_dict()
        summary = pd.concat([summary, pd.DataFrame([{"branch": TOTAL, **total}])])
    summary = summary.reset_index(drop=True)
    summary["mom"] = [
        change(c, p) for c, p in zip(summary["received"], summary["prev"], strict=True)
    ]
    summary["yoy"] = [
        change(c, p) for c, p in zip(summary["received"], summary["last_year"], strict=True)
    ]
    for column in (
        "received",
        "counted",
        "repeat",
        "upgraded",
        "multichannel",
        "overdue",
        "prev",
        "last_year",
    ):
        summary[column] = summary[column].astype(int)
    summary["score"] = summary["score"].astype(float).round(1)
    summary = summary[list(SUMMARY_COLUMNS)]
    by_channel = (
        frame.pivot_table(index="branch", columns="channel", values="counted", aggfunc="sum")
        .fillna(0)
        .astype(int)
        if not frame.empty
        else pd.DataFrame()
    )
    return summary, by_channel
