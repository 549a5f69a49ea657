"""The small interface every rule kind implements, and the data it may read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import numpy as np

from alerts.detect.findings import Finding
from alerts.detect.id_cursor import IdCursor
from config.base import DimensionFilters
from config.rules import CalendarConfig, RuleConfig, SeverityChannels, SeverityStep
from domain.buckets import BUCKET, bucket_start
from domain.calendar import HolidayCalendar
from domain.severity import EvidenceStats, severity_for

Key = tuple[str, ...]
Filters = DimensionFilters
MAX_REFS = 1000


def complete(key: Key) -> bool:
    """A key every dimension of which has a value: complaints without a category (or region,
    channel) form no product × category key, so one surge is not reported again per empty
    dimension."""
    return bool(key) and all(key)


class ComplaintRef(NamedTuple):
    """One complaint behind an alert: enough to link it and to grade severity."""

    id: int
    external_id: str
    region: str = ""
    channel: str = ""
    product_code: str = ""
    received_at: datetime | None = None  # the first ref's is the alert's start


class TextRow(NamedTuple):
    id: int
    external_id: str
    received_at: datetime
    text: str
    product_code: str
    region: str
    channel: str


class SourceHealth(NamedTuple):
    name: str
    last_delivery: datetime | None
    silent_after_minutes: int | None


class CountReader(Protocol):
    """What rules read: the live ``SqlReader`` (SQLite, PostgreSQL) and the backtest's
    ``MemoryReader`` implement all of it, and give equal answers on the same complaints
    (``tests/alerts/test_reader_contract.py``).

    Every method sees only complaints received before ``until`` and, in a replay, at or before
    the simulated clock: that is what makes the backtest free of look-ahead. A reader without
    the data a method needs gives the neutral answer its method names, never an error.
    """

    def window_counts(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
        min_count: int = 1,
    ) -> dict[Key, int]:
        """Complaints per key in buckets starting in [since, until); keys below ``min_count``
        are left out. Read-only: a reader may share the dict between calls."""
        ...

    def counts_of_keys(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        keys: Sequence[Key],
        filters: Filters | None = None,
    ) -> list[int]:
        """``window_counts`` of just these keys, 0 for a key without complaints (the backtest's
        arrays look a few keys up without building a dict of every key)."""
        ...

    def distinct_customers(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
    ) -> dict[Key, int] | None:
        """Distinct customer keys per key in [since, until); None when the data has no
        customer keys at all (a backtest CSV, a count-only source)."""
        ...

    def series(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray]:
        """The keys with complaints in [since, until) and their counts per ``step_minutes`` bin
        (one row per key, in no set order)."""
        ...

    def series_cells(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]:
        """``series`` without its empty bins: (keys, and for each non-empty bin its key's row,
        its bin and its count, ordered by row then bin). Most key × hour bins of fine keys are
        empty; a dense array of them is most of a refresh's time and memory."""
        ...

    def complaint_refs(
        self,
        key: Mapping[str, str],
        since: datetime,
        until: datetime,
        limit: int = MAX_REFS,
        filters: Filters | None = None,
    ) -> list[ComplaintRef]:
        """The first ``limit`` complaints of ``key`` received in [since, until), oldest first;
        [] where counts name no complaints (a count-only source)."""
        ...

    def new_texts(self, cursor: IdCursor, since: datetime) -> tuple[list[TextRow], IdCursor]:
        """Complaints received from ``since`` on that ``cursor`` has not delivered, in id
        order, and the cursor past them; [] where counts carry no texts."""
        ...

    def source_health(self) -> list[SourceHealth]:
        """Each enabled source's last delivery; [] where there are no sources (a backtest)."""
        ...


class RuleEvaluator(Protocol):
    name: str

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]: ...


@dataclass(frozen=True)
class RuleContext:
    """File-level settings every evaluator may need: the calendar and the severity channels."""

    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)
    severity_channels: SeverityChannels = field(default_factory=SeverityChannels)

    @classmethod
    def from_config(cls, calendar: CalendarConfig, channels: SeverityChannels) -> RuleContext:
        return cls(HolidayCalendar(calendar), channels)


@lru_cache(maxsize=64)
def _bucket_end(now: datetime) -> datetime:
    return bucket_start(now) + BUCKET


@lru_cache(maxsize=1024)  # pure, and every rule asks for the same few windows each tick
def window_bounds(now: datetime, window_minutes: int) -> tuple[datetime, datetime]:
    """Bucket range [since, until) covering the last ``window_minutes`` up to and including now."""
    until = _bucket_end(now)  # the same for every window of the tick: worked out once
    return until - timedelta(minutes=window_minutes), until


def evidence_stats(
    count: int, refs: Sequence[ComplaintRef], channels: SeverityChannels
) -> EvidenceStats:
    by_channel = Counter(r.channel for r in refs)  # one pass for the three channel figures
    return EvidenceStats(
        count=count,
        regions=len({r.region for r in refs if r.region}),
        channels=sum(1 for channel in by_channel if channel),
        regulator=sum(n for channel, n in by_channel.items() if channel in channels.regulator),
        media=sum(n for channel, n in by_channel.items() if channel in channels.media),
    )


def build_finding(
    rule: RuleConfig,
    context: RuleContext,
    *,
    key: dict[str, str],
    refs: Sequence[ComplaintRef],
    count: int,
    expected: float,
    score: float,
    title: str,
    since: datetime,
    until: datetime,
    details: dict[str, Any] | None = None,
    steps: Sequence[SeverityStep] | None = None,
) -> Finding:
    """A finding with severity graded from its evidence (count, spread, regulator, media)."""
    stats = evidence_stats(count, refs, context.severity_channels)
    first = min((r.received_at for r in refs if r.received_at is not None), default=None)
    # what the rule counted, so that the alert's evidence chart counts the same complaints
    filters = getattr(rule, "filters", None) or {}
    return Finding(
        rule=rule.name,
        rule_kind=rule.kind,
        key=key,
        count=count,
        expected=round(float(expected), 3),
        score=round(float(score), 3),
        severity=severity_for(rule.severity, rule.escalate if steps is None else steps, stats),
        title=title,
        since=since,
        until=until,
        complaint_ids=[r.id for r in refs],
        external_ids=[r.external_id for r in refs],
        details={
            "regions": stats.regions,
            "channels": stats.channels,
            "regulator": stats.regulator,
            "media": stats.media,
            **({"first_at": first.isoformat()} if first is not None else {}),
            **({"filters": {d: list(v) for d, v in filters.items()}} if filters else {}),
            **(details or {}),
        },
    )


# Late history (a source back from an outage, a new source's backfill) refits a day's baselines
# at most this often: a source that always delivers yesterday's complaints must not make every
# tick refit them.
REFIT_LATE_HISTORY = timedelta(hours=1)


@dataclass
class DailyFit:
    """When a baseline fitted on the history before local midnight must be fitted again: on a
    new local day, and when complaints from before that midnight were stored after the fit."""

    day: object = None
    midnight: datetime | None = None
    fitted_at: datetime | None = None
    late: bool = False

    def due(self, local_now: datetime, now: datetime) -> bool:
        if self.day != local_now.date():
            return True
        assert self.fitted_at is not None
        return self.late and now - self.fitted_at >= REFIT_LATE_HISTORY

    def fitted(self, local_now: datetime, now: datetime) -> datetime:
        """Record a fit at ``now``; returns the local midnight the history ends at."""
        self.day = local_now.date()
        self.midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.fitted_at, self.late = now, False
        return self.midnight

    def history_changed(self, before: datetime) -> None:
        """Complaints received at ``before`` or later were stored: stale if before the fit's end."""
        if self.midnight is not None and before < self.midnight:
            self.late = True
