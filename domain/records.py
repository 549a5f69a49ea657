"""The complaint records every layer passes around: one complaint, one count row, one unreadable record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class NormalizedComplaint:
    """One complaint in the shared shape, personal data already masked."""

    source: str
    external_id: str
    received_at: datetime
    collected_at: datetime
    channel: str
    product_code: str = ""
    product_name: str = ""
    product_line: str = ""
    region: str = ""
    category: str = ""
    event_tag: str = ""
    text: str = ""
    customer_key: str = ""
    branch: str = ""


@dataclass(frozen=True)
class RawCount:
    """One row of a count-only source: ``count`` complaints in [interval_start, +minutes).

    ``raw_key`` identifies the row as the source delivered it (before any normalisation), so a
    re-delivery of the same interval replaces the earlier value instead of adding to it.
    """

    raw_key: str
    interval_start: datetime
    interval_minutes: int
    count: int
    channel: str
    product_code: str = ""
    product_line: str = ""
    region: str = ""
    category: str = ""
    event_tag: str = ""
    branch: str = ""  # the branch office (分公司) the counts are from, when the source says


@dataclass(frozen=True)
class PreRejected:
    """A record the collector could not even read (bad file, bad row shape); goes to quarantine."""

    external_id: str
    reason: str
    payload: Any
