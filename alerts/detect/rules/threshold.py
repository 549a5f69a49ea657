"""Fixed threshold: the count over a sliding window reaches N for one group key.

Counts complaints, or distinct complainants (hashed customer key: one person on the hotline,
the web form and Weibo is one person). Data without customer keys (a backtest CSV) falls back
to counting complaints.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from alerts.detect.findings import Finding, window_text
from alerts.detect.rules.base import (
    CountReader,
    RuleContext,
    build_finding,
    complete,
    window_bounds,
)
from config.rules import ThresholdRule
from domain.dimensions import KEY_NAMES_ZH
from domain.vocabulary import CHANNELS

log = logging.getLogger(__name__)


def keys_over_threshold(
    counts: Mapping[tuple[str, ...], int], threshold: int
) -> list[tuple[tuple[str, ...], int]]:
    """Keys whose count reaches the threshold, largest first. Incomplete keys never alert."""
    hits = [(key, n) for key, n in counts.items() if n >= threshold and complete(key)]
    return sorted(hits, key=lambda item: (-item[1], item[0]))


def describe_key(key: Mapping[str, str]) -> str:
    """The key as duty staff read it: a channel by its Chinese name (热线, not hotline)."""
    return " · ".join(
        f"{KEY_NAMES_ZH.get(d, d)} {(CHANNELS.get(v, v) if d == 'channel' else v) or '—'}"
        for d, v in key.items()
    )


class ThresholdEvaluator:
    def __init__(self, rule: ThresholdRule, context: RuleContext | None = None):
        self.rule = rule
        self.name = rule.name
        self.context = context or RuleContext()
        self._warned = False

    def _counts(
        self, reader: CountReader, since: datetime, until: datetime
    ) -> tuple[dict[tuple[str, ...], int], str]:
        rule = self.rule
        if rule.count == "complainants":
            distinct = reader.distinct_customers(rule.group_by, since, until, rule.filters)
            if distinct is not None:
                return distinct, "人"
            if not self._warned:
                log.warning("rule %s: no customer keys in the data, counting complaints", rule.name)
                self._warned = True
        return reader.window_counts(rule.group_by, since, until, rule.filters), "件"

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]:
        rule = self.rule
        since, until = window_bounds(now, rule.window_minutes)
        counts, unit = self._counts(reader, since, until)
        findings = []
        for key_values, count in keys_over_threshold(counts, rule.threshold):
            key: dict[str, str] = dict(zip(rule.group_by, key_values, strict=True))
            refs = reader.complaint_refs(key, since, until, filters=rule.filters)
            findings.append(
                build_finding(
                    rule,
                    self.context,
                    key=key,
                    refs=refs,
                    count=count,
                    expected=float(rule.threshold),
                    score=count / rule.threshold,
                    title=f"{describe_key(key)}：{window_text(rule.window_minutes)}投诉 {count} {unit}",
                    since=since,
                    until=until,
                    details={
                        "window_minutes": rule.window_minutes,
                        "threshold": rule.threshold,
                        "counted": rule.count,
                    },
                )
            )
        return findings
