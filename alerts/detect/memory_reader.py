"""An in-memory CountReader over sorted numpy arrays, for the backtest's simulated clock.

``advance(now)`` moves the visibility mark: every query sees only complaints received at or
before it, so no evaluator can look ahead. A frame with a ``weight`` column is a count-only
source (``backtest --counts``): each row stands for that many complaints, so a long series of
counts replays without being expanded into one row per complaint. Group codes and filter masks are computed once per
(group_by, filters). A window's per-key counts are kept across ticks (``_SlidingCounts``): the clock
moves by a tick, so only the few rows entering and leaving the window are counted again instead of
the whole window, once per window and rule, every tick (the replay's main cost at 17,000 ticks).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pandas as pd

from alerts.detect.id_cursor import IdCursor
from alerts.detect.rules.base import MAX_REFS, ComplaintRef, Filters, Key, SourceHealth, TextRow
from domain.dimensions import DIMENSIONS

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REBUILD_ROWS = 4096  # a window that moved by more rows than this is counted afresh (bincount)


def to_ns(moment: datetime) -> int:
    return int(moment.timestamp() * _NS) if moment.microsecond else int(moment.timestamp()) * _NS


class _SlidingCounts:
    """Per-key counts of one (group_by, filters, window length, min_count) between ticks.

    ``codes`` holds each row's group code, -1 for a row the filters leave out. ``hot`` is the set
    of codes at ``threshold`` or above; ``result`` the answer dict, rebuilt only when it changed.
    """

    __slots__ = (
        "codes", "counts", "hi", "hot", "labels", "lo", "result", "threshold", "weights",
    )  # fmt: skip

    def __init__(
        self,
        codes: list[int],
        array: np.ndarray,
        labels: list[Key],
        threshold: int,
        lo: int,
        hi: int,
        weights: tuple[list[int], np.ndarray] | None = None,
    ):
        self.codes, self.labels, self.threshold = codes, labels, threshold
        self.lo, self.hi = lo, hi
        self.weights = weights[0] if weights is not None else None
        rows = array[lo:hi]
        kept = rows >= 0
        counts = np.bincount(
            rows[kept],
            weights=None if weights is None else weights[1][lo:hi][kept],
            minlength=len(labels),
        ).astype(np.int64)
        self.counts: list[int] = counts.tolist()
        self.hot: set[int] = set(np.flatnonzero(counts >= threshold).tolist())
        self.result: dict[Key, int] | None = None

    def move(self, lo: int, hi: int) -> None:
        """Count the rows leaving [self.lo, lo) out and the rows entering [self.hi, hi) in."""
        if self.weights is not None:
            self._move_weighted(lo, hi)
            return
        codes, counts, hot, threshold = self.codes, self.counts, self.hot, self.threshold
        changed = False
        for row in range(self.lo, min(lo, self.hi)):
            code = codes[row]
            if code >= 0:
                counts[code] -= 1
                if counts[code] == threshold - 1:
                    hot.discard(code)
                    changed = True
                elif counts[code] >= threshold:
                    changed = True
        for row in range(max(self.hi, lo), hi):
            code = codes[row]
            if code >= 0:
                counts[code] += 1
                if counts[code] >= threshold:
                    hot.add(code)
                    changed = True
        self.lo, self.hi = lo, hi
        if changed:
            self.result = None

    def _move_weighted(self, lo: int, hi: int) -> None:
        """``move`` for rows that each stand for ``weights[row]`` complaints."""
        codes, counts, hot, threshold = self.codes, self.counts, self.hot, self.threshold
        weights = self.weights
        assert weights is not None
        changed = False
        for row in range(self.lo, min(lo, self.hi)):
            code = codes[row]
            if code >= 0:
                before = counts[code]
                counts[code] = before - weights[row]
                if before >= threshold:
                    changed = True
                    if counts[code] < threshold:
                        hot.discard(code)
        for row in range(max(self.hi, lo), hi):
            code = codes[row]
            if code >= 0:
                counts[code] += weights[row]
                if counts[code] >= threshold:
                    hot.add(code)
                    changed = True
        self.lo, self.hi = lo, hi
        if changed:
            self.result = None

    def answer(self) -> dict[Key, int]:
        if self.result is None:
            labels, counts = self.labels, self.counts
            self.result = {labels[c]: counts[c] for c in sorted(self.hot)}
        return self.result


class MemoryReader:
    """Complaints from a frame with ``received_at`` (tz-aware), ``id`` and the dimension columns,
    and optionally ``weight``: how many complaints each row stands for."""

    def __init__(self, frame: pd.DataFrame):
        frame = frame.sort_values("received_at", kind="stable").reset_index(drop=True)
        received = pd.to_datetime(frame["received_at"], utc=True)
        # pandas-stubs do not declare DatetimeArray.asi8
        self.times = received.astype("datetime64[ns, UTC]").array.asi8.copy()  # type: ignore[attr-defined]
        self._time_list: list[int] = self.times.tolist()
        self.external_ids = frame["id"].astype(str).to_numpy(dtype=object)
        self.columns: dict[str, np.ndarray] = {}
        for dim in (*DIMENSIONS, "text", "customer_key"):
            values = frame[dim] if dim in frame else pd.Series([""] * len(frame))
            self.columns[dim] = values.fillna("").astype(str).to_numpy(dtype=object)
        self.weighted = "weight" in frame
        if self.weighted:
            array = frame["weight"].astype(np.int64).to_numpy()
            self._weights: tuple[list[int], np.ndarray] | None = (array.tolist(), array)
        else:
            self._weights = None
        self._cumulative: dict[tuple, dict[int, list[int]]] = {}  # weighted: sums along rows_of
        self.visible = 0
        self._codes: dict[tuple[str, ...], tuple[np.ndarray, list[Key]]] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._label_codes: dict[tuple[str, ...], dict[Key, int]] = {}
        self._row_at: dict[datetime, int] = {}  # this tick's: the first row at or after a moment
        self._row_codes: dict[tuple, tuple[list[int], np.ndarray]] = {}  # -1: filtered out
        self._sliding: dict[tuple, _SlidingCounts] = {}  # kept across ticks
        self._rows_of: dict[tuple, dict[int, list[int]]] = {}  # each code's rows, ascending
        self._first_customer: int | None = None  # the first row with a customer key
        self._refs: dict[int, ComplaintRef] = {}  # row -> its evidence ref, made on first use

    def __len__(self) -> int:
        return len(self.times)

    def advance(self, now: datetime) -> int:
        """Make complaints received at or before ``now`` visible; returns how many are."""
        self.visible = int(np.searchsorted(self.times, to_ns(now), side="right"))
        self._row_at.clear()
        return self.visible

    def _slice(self, since: datetime, until: datetime) -> tuple[int, int]:
        """Row range of [since, until) among the visible rows; a tick's windows share their
        ends (every window ends at the tick's bucket, and the rules ask for the same lengths)."""
        row_at = self._row_at
        lo = row_at.get(since)
        if lo is None:  # bisect on a list: no numpy call overhead for one value
            lo = row_at[since] = bisect_left(self._time_list, to_ns(since))
        hi = row_at.get(until)
        if hi is None:
            hi = row_at[until] = bisect_left(self._time_list, to_ns(until))
        return lo, max(lo, min(hi, self.visible))

    def _group(self, group_by: Sequence[str]) -> tuple[np.ndarray, list[Key]]:
        dims = tuple(group_by)
        if dims not in self._codes:
            if not dims:
                self._codes[dims] = (np.zeros(len(self.times), dtype=np.int64), [()])
            else:
                index = pd.MultiIndex.from_arrays([self.columns[d] for d in dims])
                codes, uniques = index.factorize()
                self._codes[dims] = (codes.astype(np.int64), [tuple(u) for u in uniques])
        return self._codes[dims]

    @staticmethod
    def _filter_token(filters: Filters | None) -> tuple:
        return tuple(sorted((k, tuple(v)) for k, v in filters.items())) if filters else ()

    def _mask(self, filters: Filters | None) -> np.ndarray | None:
        if not filters:
            return None
        token = self._filter_token(filters)
        if token not in self._masks:
            mask = np.ones(len(self.times), dtype=bool)
            for dim, values in filters.items():
                mask &= np.isin(self.columns[dim], list(values))
            self._masks[token] = mask
        return self._masks[token]

    def _codes_in(
        self, group_by: Sequence[str], lo: int, hi: int, filters: Filters | None
    ) -> tuple[np.ndarray, np.ndarray, list[Key]]:
        codes, labels = self._group(group_by)
        rows = np.arange(lo, hi)
        mask = self._mask(filters)
        if mask is not None:
            rows = rows[mask[lo:hi]]
        return codes[rows], rows, labels

    def _window_codes(
        self, group_by: Sequence[str], lo: int, hi: int, filters: Filters | None
    ) -> tuple[np.ndarray, list[Key]]:
        """Group codes of the rows in [lo, hi) that pass the filters (a view when unfiltered)."""
        codes, labels = self._group(group_by)
        mask = self._mask(filters)
        if mask is None:
            return codes[lo:hi], labels
        return codes[lo:hi][mask[lo:hi]], labels

    def _filtered_codes(
        self, group_by: Sequence[str], filters: Filters | None
    ) -> tuple[list[int], np.ndarray, list[Key]]:
        """Each row's group code, -1 where the filters leave the row out (list and array)."""
        token = (tuple(group_by), self._filter_token(filters))
        codes, labels = self._group(group_by)
        cached = self._row_codes.get(token)
        if cached is None:
            mask = self._mask(filters)
            array = codes if mask is None else np.where(mask, codes, -1)
            cached = self._row_codes[token] = (array.tolist(), array)
        return cached[0], cached[1], labels

    def window_counts(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
        min_count: int = 1,
    ) -> dict[Key, int]:
        """Complaints per key in [since, until); keys below ``min_count`` are left out.

        Kept across ticks and shared by the rules asking for the same window: read-only.
        """
        lo, hi = self._slice(since, until)
        threshold = max(min_count, 1)
        token = (tuple(group_by), self._filter_token(filters), until - since, threshold)
        state = self._sliding.get(token)
        if (
            state is None
            or lo < state.lo
            or hi < state.hi
            or ((lo - state.lo) + (hi - state.hi) > REBUILD_ROWS)
        ):
            codes, array, labels = self._filtered_codes(group_by, filters)
            state = self._sliding[token] = _SlidingCounts(
                codes, array, labels, threshold, lo, hi, self._weights
            )
        elif lo != state.lo or hi != state.hi:
            state.move(lo, hi)
        return state.answer()

    def _rows_by_code(
        self, group_by: Sequence[str], filters: Filters | None
    ) -> dict[int, list[int]]:
        """The rows of every code that pass the filters, ascending (bisect gives window counts)."""
        token = (tuple(group_by), self._filter_token(filters))
        rows_of = self._rows_of.get(token)
        if rows_of is None:
            _, array, _ = self._filtered_codes(group_by, filters)
            order = np.argsort(array, kind="stable")
            ordered = array[order]
            starts: np.ndarray | list[int] = (
                np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(array) else []
            )
            bounds = [*np.asarray(starts).tolist(), len(array)]
            rows_of = self._rows_of[token] = {
                int(ordered[a]): order[a:b].tolist() for a, b in pairwise(bounds) if ordered[a] >= 0
            }
        return rows_of

    def counts_of_keys(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        keys: Sequence[Key],
        filters: Filters | None = None,
    ) -> list[int]:
        """Counts of a few keys in [since, until) without a dict of every key (rules.base)."""
        lo, hi = self._slice(since, until)
        if hi == lo:
            return [0] * len(keys)
        index = self._label_index(group_by)
        rows_of = self._rows_by_code(group_by, filters)
        sums = self._weight_sums(group_by, filters) if self.weighted else None
        out = []
        for key in keys:
            code = index.get(key, -1)
            rows = rows_of.get(code)
            if not rows:
                out.append(0)
            elif sums is None:
                out.append(bisect_left(rows, hi) - bisect_left(rows, lo))
            else:
                cum = sums[code]
                out.append(cum[bisect_left(rows, hi)] - cum[bisect_left(rows, lo)])
        return out

    def _weight_sums(
        self, group_by: Sequence[str], filters: Filters | None
    ) -> dict[int, list[int]]:
        """Per code, the running total of its rows' weights (0 first): a window's count of a
        weighted key is a difference of two of them, as a bisect difference is for complaints."""
        token = (tuple(group_by), self._filter_token(filters))
        sums = self._cumulative.get(token)
        if sums is None:
            assert self._weights is not None
            weights = self._weights[1]
            sums = self._cumulative[token] = {
                code: [0, *np.cumsum(weights[rows]).tolist()]
                for code, rows in self._rows_by_code(group_by, filters).items()
            }
        return sums

    def _label_index(self, group_by: Sequence[str]) -> dict[Key, int]:
        dims = tuple(group_by)
        if dims not in self._label_codes:
            _, labels = self._group(dims)
            self._label_codes[dims] = {label: i for i, label in enumerate(labels)}
        return self._label_codes[dims]

    def distinct_customers(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
    ) -> dict[Key, int] | None:
        lo, hi = self._slice(since, until)
        customers = self.columns["customer_key"]
        if self._first_customer is None:
            keyed = np.flatnonzero(customers != "")
            self._first_customer = int(keyed[0]) if len(keyed) else len(self)
        if self._first_customer >= self.visible:  # none yet: nothing later may be looked at
            return None
        codes, rows, labels = self._codes_in(group_by, lo, hi, filters)
        seen: dict[Key, set[str]] = {}
        for code, row in zip(codes, rows, strict=True):
            if customers[row]:
                seen.setdefault(labels[code], set()).add(customers[row])
        return {key: len(people) for key, people in seen.items()}

    def _binned(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, np.ndarray | None, int]:
        """The window's rows as (keys present, each row's key position, its bin, its weight or
        None, the number of bins): what ``series`` and ``series_cells`` count."""
        step_ns = step_minutes * 60 * _NS
        n_bins = max(1, -(-(to_ns(until) - to_ns(since)) // step_ns))
        lo, hi = self._slice(since, until)
        codes, rows, labels = self._codes_in(group_by, lo, hi, filters)
        bins = (self.times[rows] - to_ns(since)) // step_ns
        # the codes present, ascending, and each row's position among them: np.unique's answer
        # from a count per label and a lookup table instead of a sort of the window's rows
        present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
        lookup = np.zeros(len(labels), dtype=np.intp)
        lookup[present] = np.arange(len(present))
        weights = None if self._weights is None else self._weights[1][rows]
        keys = [labels[i] for i in present.tolist()]
        return keys, lookup[codes], bins, weights, n_bins

    def series(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray]:
        keys, inverse, bins, weights, n_bins = self._binned(
            group_by, since, until, step_minutes, filters
        )
        flat = np.bincount(inverse * n_bins + bins, weights, minlength=len(keys) * n_bins)
        # a weighted bincount counts in floats
        return keys, flat.astype(np.int64, copy=False).reshape(len(keys), n_bins)

    def series_cells(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]:
        keys, rows, bins, weights, n_bins = self._binned(
            group_by, since, until, step_minutes, filters
        )
        cells, inverse = np.unique(rows * n_bins + bins, return_inverse=True)
        counts = np.bincount(inverse, weights, minlength=len(cells)).astype(np.int64)
        return keys, cells // n_bins, cells % n_bins, counts

    def complaint_refs(
        self,
        key: Mapping[str, str],
        since: datetime,
        until: datetime,
        limit: int = MAX_REFS,
        filters: Filters | None = None,
    ) -> list[ComplaintRef]:
        lo, hi = self._slice(since, until)
        if hi == lo or self.weighted:  # counts name no complaints
            return []
        dims = tuple(key)
        code = self._label_index(dims).get(tuple(key.values()), -1)
        own = self._rows_by_code(dims, filters).get(code, [])
        rows = own[bisect_left(own, lo) : bisect_left(own, hi)][:limit]
        # a firing alert asks for nearly the same rows tick after tick: each row's ref is made
        # once (refs are immutable tuples, so sharing them is safe)
        made, out = self._refs, []
        for r in rows:
            ref = made.get(r)
            if ref is None:
                ref = made[r] = self._make_ref(r)
            out.append(ref)
        return out

    def _make_ref(self, r: int) -> ComplaintRef:
        cols = self.columns
        return ComplaintRef(
            int(r), self.external_ids[r], cols["region"][r], cols["channel"][r],
            cols["product_code"][r], datetime.fromtimestamp(self.times[r] / 1e9, UTC),
        )  # fmt: skip

    def new_texts(self, cursor: IdCursor, since: datetime) -> tuple[list[TextRow], IdCursor]:
        """Rows are visible in id order here: the cursor's highest id is all it needs."""
        lo = max(cursor.high + 1, bisect_left(self._time_list, to_ns(since)))
        if self.weighted:  # counts carry no texts
            return [], IdCursor(high=max(cursor.high, self.visible - 1))
        cols = self.columns
        rows = [
            TextRow(
                r, self.external_ids[r], self.received_at(r), cols["text"][r],
                cols["product_code"][r], cols["region"][r], cols["channel"][r],
            )
            for r in range(lo, self.visible)
        ]  # fmt: skip
        return rows, IdCursor(high=max(cursor.high, self.visible - 1))

    def received_at(self, row: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(self.times[row]) // 1000)

    def source_health(self) -> list[SourceHealth]:
        return []
