"""What a rule reports for one key at one tick; the lifecycle turns findings into alerts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Finding:
    rule: str
    rule_kind: str
    key: dict[str, str]
    count: int
    expected: float
    score: float
    severity: int
    title: str
    since: datetime
    until: datetime
    complaint_ids: list[int] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.key)

    def evidence(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "count": self.count,
            "expected": self.expected,
            "score": self.score,
            "complaint_ids": self.complaint_ids,
            "external_ids": self.external_ids,
            **self.details,
        }


def fingerprint(rule: str, key: dict[str, str]) -> str:
    """Stable identity of 'this rule about this key', the unit of deduplication."""
    canonical = json.dumps([rule, sorted(key.items())], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def expected_text(expected: float) -> str:
    """An expected count for a title: "<0.1" rather than "0.0" for a key that almost never sees
    a complaint (0.0 would read as "none expected, so any count alerts")."""
    return f"{expected:.1f}" if expected >= 0.05 else "<0.1"


def window_text(minutes: int) -> str:
    """A window for a title as people say it: "30 分钟", "24 小时" (not "1440 分钟")."""
    return f"{minutes // 60} 小时" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} 分钟"


def alert_start(evidence: dict[str, Any] | None, fallback: datetime) -> datetime:
    """When an alert's situation began: its first complaint counted (``first_at``, kept at its
    earliest while the alert lives), else when the alert opened. Every page and message says
    this one time, so "开始" and "持续" agree everywhere."""
    first = (evidence or {}).get("first_at")
    if not first:
        return fallback
    try:
        return min(datetime.fromisoformat(str(first)), fallback)
    except ValueError:
        return fallback
