"""Small helpers shared by the collector tests: run a source, count what was stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.base import Batch
from collectors.runner import RunResult, collect_once
from storage.models import Complaint, ComplaintCount, QuarantinedRecord, SourceState

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def run(factory: sessionmaker[Session], name: str, kind: str, collector, now=NOW) -> RunResult:
    return collect_once(factory, name, kind, collector, now)


def stored_ids(factory: sessionmaker[Session], source: str) -> list[str]:
    with factory() as session:
        query = select(Complaint.external_id).where(Complaint.source == source)
        return sorted(session.scalars(query))


def complaints(factory: sessionmaker[Session], source: str) -> list[Complaint]:
    with factory() as session:
        query = select(Complaint).where(Complaint.source == source).order_by(Complaint.id)
        return list(session.scalars(query))


def quarantined(factory: sessionmaker[Session], source: str) -> list[QuarantinedRecord]:
    with factory() as session:
        query = select(QuarantinedRecord).where(QuarantinedRecord.source == source)
        return list(session.scalars(query.order_by(QuarantinedRecord.id)))


def counted(factory: sessionmaker[Session], source: str) -> int:
    with factory() as session:
        query = select(func.coalesce(func.sum(ComplaintCount.count), 0)).where(
            ComplaintCount.source == source
        )
        return int(session.scalar(query) or 0)


def state_or_none(factory: sessionmaker[Session], source: str) -> SourceState | None:
    """The source's stored state, or None before its first run (for polling a live worker)."""
    with factory() as session:
        return session.get(SourceState, source)


def state(factory: sessionmaker[Session], source: str) -> SourceState:
    """The source's stored state; a test calls this after a run, so a missing row is a failure."""
    found = state_or_none(factory, source)
    assert found is not None, f"no stored state for source {source!r}"
    return found


def record(i: int) -> dict:
    return {
        "id": f"G{i:05d}",
        "received_at": (NOW - timedelta(hours=1, seconds=i)).isoformat(),
        "channel": "hotline",
        "product_code": "CAR",
        "text": f"complaint {i}",
        "customer_phone": f"1380000{i % 50:04d}",
    }


@dataclass
class PagedSource:
    """Pages of ``size`` records; the cursor is the next index. Can fail on one fetch."""

    records: list[dict]
    size: int
    fail_at_cursor: str | None = None

    def fetch(self, cursor: str, now: datetime) -> Batch:
        if cursor == self.fail_at_cursor:
            raise ConnectionError("source went away")
        start = int(cursor or 0)
        stop = min(start + self.size, len(self.records))
        page = self.records[start:stop]
        return Batch(records=page, cursor=str(stop), has_more=stop < len(self.records))
