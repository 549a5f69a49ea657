"""Scoring alerts against labelled events, exactly as the issue defines it.

Synthetic streams (``score``): an alert matches an event when >= 30 % of its complaint ids are
the event's. Recall: events matched by an alert fired before the event's end + 12 h. Every alert
matching no event is false; false situations are the distinct ``situation`` ids among the false
alerts (an alert without one is its own). False alerts are per 1000 product-days; time to detect
is first matching firing - event start; "seen" is how many of the event's complaints had been
received by then.

Labelled windows of count series (``score_windows``, the real-data figure): a window is found
when an alert of its series fires inside [start, end]; an alert outside every window of its
series is false; false alerts of one series less than an hour apart, or sharing a situation id,
are one false situation.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

MATCH_SHARE = 0.30
GRACE = timedelta(hours=12)


@dataclass
class KindScore:
    events: int = 0
    detected: int = 0
    ttd_minutes: list[float] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)

    @property
    def median_ttd(self) -> float:
        return statistics.median(self.ttd_minutes) if self.ttd_minutes else float("nan")


@dataclass
class Score:
    events: int
    detected: int
    false_alerts: int
    alerts: int
    product_days: float
    ttd_minutes: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_rules: dict[str, int] = field(default_factory=dict)
    false_situations: int = 0
    seen: list[int] = field(default_factory=list)  # event complaints received by the first alert
    # per event kind: events, detected, minutes to detect
    kinds: dict[str, KindScore] = field(default_factory=dict)

    @property
    def false_situations_per_1000(self) -> float:
        return 1000 * self.false_situations / self.product_days if self.product_days else 0.0

    @property
    def median_seen(self) -> float:
        return statistics.median(self.seen) if self.seen else float("nan")

    @property
    def recall(self) -> float:
        return self.detected / self.events if self.events else 1.0

    @property
    def false_per_1000(self) -> float:
        return 1000 * self.false_alerts / self.product_days if self.product_days else 0.0

    @property
    def median_ttd(self) -> float:
        return statistics.median(self.ttd_minutes) if self.ttd_minutes else float("nan")


def match_event(alert_ids: Sequence[str], owner: dict[str, str]) -> str | None:
    """The event owning at least 30 % of the alert's complaint ids, if any (the largest share)."""
    if not alert_ids:
        return None
    shares: dict[str, int] = {}
    for cid in alert_ids:
        event = owner.get(cid)
        if event is not None:
            shares[event] = shares.get(event, 0) + 1
    if not shares:
        return None
    event, n = max(shares.items(), key=lambda kv: kv[1])
    return event if n / len(alert_ids) >= MATCH_SHARE else None


def situation_of(alert: dict[str, Any], position: int) -> tuple[str, Any]:
    """The alert's situation id, or a key of its own when it has none."""
    situation = alert.get("situation")
    return ("situation", situation) if situation is not None else ("alert", position)


def score(
    alerts: Sequence[dict[str, Any]],
    events: Sequence[Any],
    product_days: float,
    received: dict[str, datetime] | None = None,
) -> Score:
    """Score alert lines against labelled events; ``received`` (complaint id -> received_at)
    gives how many of an event's complaints had arrived before its first alert."""
    owner = {cid: e.id for e in events for cid in e.complaint_ids}
    by_id = {e.id: e for e in events}
    first: dict[str, datetime] = {}
    false_alerts = 0
    false_rules: dict[str, int] = {}
    false_situations: set[tuple[str, Any]] = set()
    for position, alert in enumerate(alerts):
        fired = datetime.fromisoformat(alert["fired_at"])
        event_id = match_event(alert["complaint_ids"], owner)
        if event_id is None:
            false_alerts += 1
            false_rules[alert["rule"]] = false_rules.get(alert["rule"], 0) + 1
            false_situations.add(situation_of(alert, position))
            continue
        event = by_id[event_id]
        if fired <= event.end + GRACE and (event_id not in first or fired < first[event_id]):
            first[event_id] = fired
    ttd: list[float] = []
    seen: list[int] = []
    kinds: dict[str, KindScore] = {}
    for e in events:
        kind = kinds.setdefault(e.kind, KindScore())
        kind.events += 1
        if e.id not in first:
            continue
        minutes = max((first[e.id] - e.start).total_seconds() / 60, 0.0)
        ttd.append(minutes)
        kind.detected += 1
        kind.ttd_minutes.append(minutes)
        if received is not None:
            n = sum(1 for cid in e.complaint_ids if received[cid] <= first[e.id])
            seen.append(n)
            kind.seen.append(n)
    missed = [f"{e.id}:{e.kind}" for e in events if e.id not in first]
    return Score(len(events), len(first), false_alerts, len(alerts), product_days, ttd, missed,
                 false_rules, len(false_situations), seen, kinds)  # fmt: skip


def combine(scores: Sequence[Score]) -> Score:
    """One score over several streams (sums and pooled lists)."""
    total = Score(0, 0, 0, 0, 0.0)
    for s in scores:
        total.events += s.events
        total.detected += s.detected
        total.false_alerts += s.false_alerts
        total.false_situations += s.false_situations
        total.alerts += s.alerts
        total.product_days += s.product_days
        total.ttd_minutes += s.ttd_minutes
        total.seen += s.seen
        total.missed += s.missed
        for rule, n in s.false_rules.items():
            total.false_rules[rule] = total.false_rules.get(rule, 0) + n
        for name, k in s.kinds.items():
            mine = total.kinds.setdefault(name, KindScore())
            mine.events += k.events
            mine.detected += k.detected
            mine.ttd_minutes += k.ttd_minutes
            mine.seen += k.seen
    return total


# ---- labelled windows of count series (the real-data figure) ----------------------------------

SITUATION_GAP = timedelta(hours=1)


@dataclass(frozen=True)
class SeriesLabels:
    windows: tuple[tuple[datetime, datetime], ...]
    anomaly_points: tuple[datetime, ...] = ()


@dataclass
class WindowScore:
    windows: int
    found: int
    alerts: int
    false_alerts: int
    false_situations: int
    series_days: float
    minutes: list[float] = field(default_factory=list)  # window start -> first alert in it
    at_or_before_point: int = 0  # found windows whose first alert came at/before the point
    with_point: int = 0  # windows that have a labelled anomaly point
    from_point: list[float] = field(default_factory=list)  # first alert - anomaly point (min)
    by_series: dict[str, tuple[int, int, int]] = field(
        default_factory=dict
    )  # found, windows, false

    def per_1000(self, n: int) -> float:
        return 1000 * n / self.series_days if self.series_days else 0.0

    @property
    def false_per_1000(self) -> float:
        return self.per_1000(self.false_alerts)

    @property
    def false_situations_per_1000(self) -> float:
        return self.per_1000(self.false_situations)

    @property
    def median_minutes(self) -> float:
        return statistics.median(self.minutes) if self.minutes else float("nan")

    @property
    def median_from_point(self) -> float:
        return statistics.median(self.from_point) if self.from_point else float("nan")


def series_of(alert: dict[str, Any], field_name: str = "product_code") -> str:
    return str((alert.get("key") or {}).get(field_name, ""))


def false_situation_count(false: Sequence[tuple[str, datetime, tuple[str, Any]]]) -> int:
    """Groups of false alerts (series, fired, situation key): one series' alerts less than an
    hour apart (chained) are one group, and so are alerts sharing a situation id."""
    parent = list(range(len(false)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    order = sorted(range(len(false)), key=lambda i: (false[i][0], false[i][1]))
    for a, b in pairwise(order):
        if false[a][0] == false[b][0] and false[b][1] - false[a][1] < SITUATION_GAP:
            union(a, b)
    by_situation: dict[tuple[str, Any], int] = {}
    for i, (_, _, situation) in enumerate(false):
        if situation[0] == "situation":
            if situation in by_situation:
                union(i, by_situation[situation])
            else:
                by_situation[situation] = i
    return len({find(i) for i in range(len(false))})


def score_windows(
    alerts: Sequence[dict[str, Any]],
    labels: dict[str, SeriesLabels],
    series_days: float,
    field_name: str = "product_code",
) -> WindowScore:
    """Labelled windows found, false alerts and situations, minutes from window start.

    An alert belongs to the series named by its key's ``field_name``; an alert of no labelled
    series (e.g. a source or channel key) lies outside every window, so it is false.
    """
    first: dict[tuple[str, int], datetime] = {}
    false: list[tuple[str, datetime, tuple[str, Any]]] = []
    for position, alert in enumerate(alerts):
        fired = datetime.fromisoformat(alert["fired_at"])
        series = series_of(alert, field_name)
        inside = False
        for w, (start, end) in enumerate(labels[series].windows if series in labels else ()):
            if start <= fired <= end:
                inside = True
                if (series, w) not in first or fired < first[(series, w)]:
                    first[(series, w)] = fired
        if not inside:
            false.append((series, fired, situation_of(alert, position)))
    minutes: list[float] = []
    from_point: list[float] = []
    at_or_before = with_point = 0
    by_series: dict[str, tuple[int, int, int]] = {}
    for series, lab in labels.items():
        found = 0
        for w, (start, end) in enumerate(lab.windows):
            points = [p for p in lab.anomaly_points if start <= p <= end]
            with_point += bool(points)
            if (series, w) not in first:
                continue
            found += 1
            minutes.append((first[(series, w)] - start).total_seconds() / 60)
            if points:
                from_point.append((first[(series, w)] - min(points)).total_seconds() / 60)
                at_or_before += first[(series, w)] <= min(points)
        by_series[series] = (found, len(lab.windows), sum(1 for f in false if f[0] == series))
    return WindowScore(
        windows=sum(len(lab.windows) for lab in labels.values()),
        found=len(first),
        alerts=len(alerts),
        false_alerts=len(false),
        false_situations=false_situation_count(false),
        series_days=series_days,
        minutes=minutes,
        at_or_before_point=at_or_before,
        with_point=with_point,
        from_point=from_point,
        by_series=by_series,
    )
