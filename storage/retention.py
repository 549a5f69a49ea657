"""Retention of raw texts: complaint texts and quarantine payloads older than N days are blanked.

Counts (``complaint_counts``) and the complaint rows themselves (dimensions, dates, the hashed
customer key) stay for years: trends, year-on-year reports and baselines need them, the words
of a complaint do not. Work is done in batches, each its own transaction, so a large first run
never holds long locks against the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import Complaint, QuarantinedRecord

# The copied-text rule compares texts of the last day; keep at least a week to be safe.
MIN_RETENTION_DAYS = 7
BATCH = 5_000


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    texts_blanked: int
    payloads_blanked: int


def cutoff_for(now: datetime, days: int) -> datetime:
    """The moment before which texts go; refuses windows shorter than detection needs."""
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"text retention of {days} days is shorter than the minimum {MIN_RETENTION_DAYS}"
        )
    return now - timedelta(days=days)


def _blank_batch(session: Session, cutoff: datetime, batch: int) -> int:
    ids = session.scalars(
        select(Complaint.id)
        .where(Complaint.received_at < cutoff, Complaint.text != "")
        .limit(batch)
    ).all()
    if ids:
        session.execute(  # the received_at bound lets PostgreSQL prune to the old partitions
            update(Complaint)
            .where(Complaint.id.in_(ids), Complaint.received_at < cutoff)
            .values(text="")
        )
    return len(ids)


def _blank_payload_batch(session: Session, cutoff: datetime, batch: int) -> int:
    ids = session.scalars(
        select(QuarantinedRecord.id)
        .where(QuarantinedRecord.quarantined_at < cutoff, QuarantinedRecord.payload != "")
        .limit(batch)
    ).all()
    if ids:
        session.execute(
            update(QuarantinedRecord).where(QuarantinedRecord.id.in_(ids)).values(payload="")
        )
    return len(ids)


def apply_retention(
    factory: sessionmaker[Session], now: datetime, days: int, batch: int = BATCH
) -> RetentionResult:
    """Blank texts received, and quarantine payloads kept, more than ``days`` days before ``now``."""
    cutoff = cutoff_for(now, days)
    totals = [0, 0]
    for slot, step in enumerate((_blank_batch, _blank_payload_batch)):
        while True:
            with session_scope(factory) as session:
                done = step(session, cutoff, batch)
            totals[slot] += done
            if done < batch:
                break
    return RetentionResult(cutoff, totals[0], totals[1])
