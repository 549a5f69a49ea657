"""The collector contract: fetch raw records after a cursor; the runner does the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# Set by a stopping worker (alerts.worker.stop_scheduler): a backfill run ends at its next group,
# and an HTTP source's retry waits end with no further attempt (collectors.http_client).
WORKER_STOPPING = threading.Event()


@dataclass(frozen=True)
class BatchOutcome:
    """What the runner stored for one batch; handed to ``Batch.after_commit``."""

    fetched: int
    inserted: int
    duplicates: int
    quarantined: int


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


@dataclass
class Batch:
    """Raw records from one fetch and the cursor to keep once they are committed.

    ``counts`` carries count-only rows, ``rejected`` records the collector already knows are bad,
    and ``after_commit`` runs only once the batch is durably stored (e.g. move a file to done/).
    ``note`` tells the source page why a healthy source holds something back (a file uploading).
    """

    records: list[dict[str, Any]]
    cursor: str
    has_more: bool = False
    counts: list[RawCount] = field(default_factory=list)
    rejected: list[PreRejected] = field(default_factory=list)
    after_commit: Callable[[BatchOutcome], None] | None = None
    note: str = ""


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


class Collector(Protocol):
    """A source kind. ``fetch`` must be safe to repeat with the same cursor (re-read, never skip)."""

    def fetch(self, cursor: str, now: datetime) -> Batch: ...
