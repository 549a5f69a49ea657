"""Source silent: a source that delivered nothing for longer than its ``silent_after_minutes``.

Reads each source's health (last complaint received, else last successful run) from the reader;
the alert resolves as soon as the source delivers again. A backtest has no sources, so it is
quiet there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.detect.findings import Finding
from alerts.detect.rules.base import CountReader, RuleContext, build_finding
from config.rules import SourceSilentRule


class SourceSilentEvaluator:
    def __init__(self, rule: SourceSilentRule, context: RuleContext | None = None):
        self.rule = rule
        self.name = rule.name
        self.context = context or RuleContext()

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]:
        findings = []
        for health in reader.source_health():
            limit = health.silent_after_minutes or self.rule.default_silent_after_minutes
            if limit is None or health.last_delivery is None:
                continue
            silent = now - health.last_delivery
            if silent <= timedelta(minutes=limit):
                continue
            minutes = int(silent.total_seconds() // 60)
            findings.append(
                build_finding(
                    self.rule, self.context, key={"source": health.name}, refs=[], count=0,
                    expected=float(limit), score=minutes / limit,
                    title=f"数据源 {health.name} 已 {minutes} 分钟无数据（阈值 {limit} 分钟）",
                    since=health.last_delivery, until=now,
                    details={"silent_minutes": minutes, "silent_after_minutes": limit},
                )
            )  # fmt: skip
        return findings
