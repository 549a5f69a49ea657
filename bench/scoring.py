"""Scoring alerts against labelled events, exactly as the issue defines it.

An alert matches an event when >= 30 % of its complaint ids are the event's. Recall: events
matched by an alert fired before the event's end + 12 h. Every alert matching no event is false.
False alerts are per 1000 product-days; time to detect is first matching firing - event start.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MATCH_SHARE = 0.30
GRACE = timedelta(hours=12)


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


def score(alerts: Sequence[dict[str, Any]], events: Sequence[Any], product_days: float) -> Score:
    owner = {cid: e.id for e in events for cid in e.complaint_ids}
    by_id = {e.id: e for e in events}
    first: dict[str, datetime] = {}
    false_alerts = 0
    false_rules: dict[str, int] = {}
    for alert in alerts:
        fired = datetime.fromisoformat(alert["fired_at"])
        event_id = match_event(alert["complaint_ids"], owner)
        if event_id is None:
            false_alerts += 1
            false_rules[alert["rule"]] = false_rules.get(alert["rule"], 0) + 1
            continue
        event = by_id[event_id]
        if fired <= event.end + GRACE and (event_id not in first or fired < first[event_id]):
            first[event_id] = fired
    ttd = [max((first[e.id] - e.start).total_seconds() / 60, 0.0) for e in events if e.id in first]
    missed = [f"{e.id}:{e.kind}" for e in events if e.id not in first]
    return Score(len(events), len(first), false_alerts, len(alerts), product_days, ttd, missed,
                 false_rules)  # fmt: skip
