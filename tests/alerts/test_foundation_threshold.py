from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np

from alerts.detect.id_cursor import IdCursor
from alerts.detect.rules.base import (
    MAX_REFS,
    ComplaintRef,
    Filters,
    Key,
    SourceHealth,
    TextRow,
)
from alerts.detect.rules.threshold import ThresholdEvaluator, describe_key, keys_over_threshold
from config.models import SeverityStep, ThresholdRule


class DictReader:
    """A CountReader over a fixed table, recording what was asked. The threshold rule reads
    window counts and complaint refs; the other methods give each one's neutral answer."""

    def __init__(self, counts: dict[Key, int]) -> None:
        self.counts = counts
        self.asked: list[tuple[Key, datetime, datetime, Filters | None]] = []

    def window_counts(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
        min_count: int = 1,
    ) -> dict[Key, int]:
        self.asked.append((tuple(group_by), since, until, filters))
        return self.counts

    def counts_of_keys(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        keys: Sequence[Key],
        filters: Filters | None = None,
    ) -> list[int]:
        return [self.counts.get(key, 0) for key in keys]

    def distinct_customers(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
    ) -> dict[Key, int] | None:
        return None

    def series(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray]:
        return [], np.zeros((0, 0), dtype=np.int64)

    def series_cells(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]:
        empty = np.zeros(0, dtype=np.int64)
        return [], empty, empty, empty

    def complaint_refs(
        self,
        key: Mapping[str, str],
        since: datetime,
        until: datetime,
        limit: int = MAX_REFS,
        filters: Filters | None = None,
    ) -> list[ComplaintRef]:
        return [ComplaintRef(1, "a"), ComplaintRef(2, "b")]

    def new_texts(self, cursor: IdCursor, since: datetime) -> tuple[list[TextRow], IdCursor]:
        return [], cursor

    def source_health(self) -> list[SourceHealth]:
        return []


def test_keys_reaching_the_threshold_largest_first():
    counts: dict[Key, int] = {("A",): 3, ("B",): 12, ("C",): 10, ("",): 50}
    assert keys_over_threshold(counts, 10) == [(("B",), 12), (("C",), 10)]


def test_evaluator_reports_count_severity_and_evidence():
    rule = ThresholdRule(
        name="t",
        kind="threshold",
        threshold=10,
        window_minutes=60,
        escalate=[SeverityStep(min_count=20, severity=3)],
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
