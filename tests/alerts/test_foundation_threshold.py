from __future__ import annotations

from datetime import UTC, datetime

from alerts.detect.rules.base import ComplaintRef
from alerts.detect.rules.threshold import ThresholdEvaluator, describe_key, keys_over_threshold
from config.models import ThresholdRule


class DictReader:
    """A CountReader over a fixed table, recording what was asked."""

    def __init__(self, counts):
        self.counts, self.asked = counts, []

    def window_counts(self, group_by, since, until, filters=None, min_count=1):
        self.asked.append((tuple(group_by), since, until, filters))
        return self.counts

    def complaint_refs(self, key, since, until, limit=1000, filters=None):
        return [ComplaintRef(1, "a"), ComplaintRef(2, "b")]


def test_keys_reaching_the_threshold_largest_first():
    counts = {("A",): 3, ("B",): 12, ("C",): 10, ("",): 50}
    assert keys_over_threshold(counts, 10) == [(("B",), 12), (("C",), 10)]


def test_evaluator_reports_count_severity_and_evidence():
    rule = ThresholdRule(
        name="t",
        kind="threshold",
        threshold=10,
        window_minutes=60,
        escalate=[{"min_count": 20, "severity": 3}],
    )
    reader = DictReader({("CAR-001",): 25, ("CAR-002",): 9})
    now = datetime(2026, 11, 23, 2, 7, tzinfo=UTC)
    [finding] = ThresholdEvaluator(rule).evaluate(reader, now)
    assert finding.key == {"product_code": "CAR-001"}
    assert (finding.count, finding.expected, finding.severity) == (25, 10.0, 3)
    assert finding.external_ids == ["a", "b"]
    _, since, until, _ = reader.asked[0]
    assert until == datetime(2026, 11, 23, 2, 10, tzinfo=UTC)
    assert (until - since).total_seconds() == 3600


def test_titles_name_channels_as_duty_staff_know_them():
    key = {"channel": "hotline", "product_code": "LIA-024", "region": ""}
    assert describe_key(key) == "渠道 热线 · 产品 LIA-024 · 地区 —"
    assert describe_key({"channel": "传真"}) == "渠道 传真"  # an unknown channel as delivered
