"""The collector contract: fetch raw records after a cursor; the runner does the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.records import PreRejected, RawCount

# Set by a stopping worker (worker.main.stop_scheduler): a backfill run ends at its next group,
# and an HTTP source's retry waits end with no further attempt (collectors.http_client).
WORKER_STOPPING = threading.Event()


@dataclass(frozen=True)
class BatchOutcome:
    """What the runner stored for one batch; handed to ``Batch.after_commit``."""

    fetched: int
    inserted: int
    duplicates: int
    quarantined: int


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


class Collector(Protocol):
    """A source kind. ``fetch`` must be safe to repeat with the same cursor (re-read, never skip)."""

    def fetch(self, cursor: str, now: datetime) -> Batch: ...
