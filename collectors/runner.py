"""Run one source: fetch after the cursor, normalise, store or quarantine, then move the cursor.

Data, quarantine and the new cursor are committed in one transaction, so a crash anywhere
re-reads the same batch next time (and idempotent ingest makes that harmless). A backfill's
consecutive pages share one such transaction (see ``_fetch_group``). Side effects
outside the database (moving a file to done/) run only after that commit.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.base import WORKER_STOPPING, Batch, BatchOutcome, Collector
from collectors.normalize import DEFAULT_ZONE, RecordRejected, normalize
from collectors.pii import current_salt, mask_text
from domain.products import ProductTable
from domain.records import NormalizedComplaint
from storage.db import session_scope
from storage.ingest import Rejected, deliver_counts, ingest_complaints, quarantine
from storage.models import SourceState

log = logging.getLogger(__name__)
# A run ends at this many pages, or at the first group after RUN_SECONDS (or once the worker is
# stopping): a backfill's next run starts at once (the worker wakes it).
MAX_BATCHES_PER_RUN = 1_000
RUN_SECONDS = 10.0
# A backfill's pages are committed together up to this many records or seconds of fetching.
GROUP_RECORDS = 20_000
GROUP_SECONDS = 2.0
# Fields that identify a person: never kept in a quarantine payload, not even masked.
IDENTITY_FIELDS = frozenset({"customer_id", "customer_phone"})
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@")


@dataclass
class RunResult:
    source: str
    fetched: int = 0
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    counts: int = 0
    error: str = ""
    more: bool = False  # stopped at the run's page or time limit with pages left to read


def safe_error(exc: BaseException) -> str:
    """An error message fit for logs and the database: no URL passwords, no personal data."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***:***@", f"{type(exc).__name__}: {exc}")
    return mask_text(text)[:2000]


def collect_once(
    factory: sessionmaker[Session],
    name: str,
    kind: str,
    collector: Collector,
    now: datetime,
    zone: tzinfo = DEFAULT_ZONE,
) -> RunResult:
    """Pull until the source says it has nothing more (bounded); record health either way.

    A run's first page is stored on its own, at once: a live source's news reaches the
    evaluation without waiting for a group of pages to fill. ``zone`` is the source's zone
    for times it writes without an offset (``config.sources.source_zone``).
    """
    result = RunResult(source=name)
    pages = 0
    started = time.monotonic()
    try:
        cursor = _read_cursor(factory, name)
        group = _fetch_group(collector, name, cursor, now, pages, zone, limit=1)
        while True:
            has_more = _store_group(factory, name, kind, group, now, result, first=pages == 0)
            pages += len(group.pages)
            if group.error is not None:
                raise group.error
            out_of_time = time.monotonic() - started >= RUN_SECONDS or WORKER_STOPPING.is_set()
            if not has_more or pages >= MAX_BATCHES_PER_RUN or out_of_time:
                result.more = has_more
                break
            cursor = _read_cursor(factory, name)
            group = _fetch_group(collector, name, cursor, now, pages, zone)
    except Exception as exc:  # any source failure: keep the cursor, record it, retry next run
        result.error = safe_error(exc)
        log.warning("source %s failed: %s", name, result.error.splitlines()[0])
        _record_failure(factory, name, kind, now, result.error)
    return result


def normalize_all(
    records: list[Any],
    name: str,
    now: datetime,
    products: ProductTable | None = None,
    zone: tzinfo = DEFAULT_ZONE,
) -> tuple[list[NormalizedComplaint], list[Rejected]]:
    """Split raw records into storable complaints and quarantined ones; never raises."""
    good: list[NormalizedComplaint] = []
    bad: list[Rejected] = []
    salt = current_salt()
    for raw in records:
        try:
            good.append(normalize(raw, name, now, products, salt, zone))
        except RecordRejected as exc:
            bad.append(rejected(raw, str(exc)))
        except Exception as exc:  # a record nobody foresaw must still not stop the batch
            bad.append(rejected(raw, f"unexpected error: {safe_error(exc)}"))
    return good, bad


@dataclass
class _Page:
    batch: Batch
    good: list[NormalizedComplaint]
    bad: list[Rejected]


@dataclass
class _Group:
    """Pages fetched from one cursor on, stored in one transaction with the last page's cursor."""

    cursor: str
    pages: list[_Page]
    error: Exception | None = None

    @property
    def records(self) -> int:
        return sum(len(page.good) + len(page.bad) for page in self.pages)


def _fetch_group(
    collector: Collector,
    name: str,
    cursor: str,
    now: datetime,
    pages_done: int,
    zone: tzinfo,
    limit: int | None = None,
) -> _Group:
    """Fetch and normalise pages until the source is drained or the group is big or old enough
    (``limit`` records, by default ``GROUP_RECORDS``).

    Outside any transaction: a source that takes 30 s to answer must not hold SQLite's one
    write lock (or a PostgreSQL transaction) meanwhile. One commit per group instead of per
    page: each commit rewrites every index page the page's random keys (customer hash, product)
    touched, so a backfill of 1,000-record pages spent more time committing than storing. A
    fetch that fails after some pages keeps them: the group is stored, then the error reported.
    """
    group = _Group(cursor=cursor, pages=[])
    started = time.monotonic()
    products = getattr(collector, "products", None)
    products = products if isinstance(products, ProductTable) else None  # simulator: a tuple
    while True:
        try:
            batch = collector.fetch(cursor, now)
        except Exception as exc:
            if not group.pages:
                raise
            group.error = exc
            return group
        good, bad = normalize_all(batch.records, name, now, products, zone)
        bad += [rejected(item.payload, item.reason, item.external_id) for item in batch.rejected]
        group.pages.append(_Page(batch, good, bad))
        cursor = batch.cursor
        moves_something = batch.after_commit is not None  # a file: moved before the next fetch
        if (
            not batch.has_more
            or moves_something
            or group.records >= (limit or GROUP_RECORDS)
            or time.monotonic() - started >= GROUP_SECONDS
            or pages_done + len(group.pages) >= MAX_BATCHES_PER_RUN
        ):
            return group


def _store_group(
    factory: sessionmaker[Session],
    name: str,
    kind: str,
    group: _Group,
    now: datetime,
    result: RunResult,
    first: bool,
) -> bool:
    """Store the group and its last cursor in one transaction; then run the after-commit step.

    Pages are stored together (one dedupe, one count upsert, one repeat lookup), except a page
    with an after-commit step (a file), which is stored alone so that its outcome is its own.
    """
    parts = [page for page in group.pages if page.batch.after_commit is None]
    parts = [_merged(parts)] if parts else []
    parts += [page for page in group.pages if page.batch.after_commit is not None]
    outcomes: list[BatchOutcome] = []
    with session_scope(factory) as session:
        state = _state(session, name, kind, lock=True)
        if (state.cursor or "") != group.cursor:
            # Another run stored its batch first (the same source on two workers): keep its
            # cursor; this batch is fetched again from there if it still matters.
            log.warning("source %s: cursor moved during the fetch; batch dropped", name)
            return False
        if first:
            state.records_last_run = 0
            state.quarantined_last_run = 0
        for page in parts:
            batch = page.batch
            stored = ingest_complaints(session, page.good)
            kept = quarantine(session, name, page.bad, now)  # a bad record again is a duplicate
            result.counts += deliver_counts(session, name, batch.counts, now) if batch.counts else 0
            _record_success(state, batch, page.good, stored.inserted, kept, now)
            outcomes.append(
                BatchOutcome(
                    fetched=len(batch.records) + len(batch.rejected),
                    inserted=stored.inserted,
                    duplicates=stored.duplicates + len(page.bad) - kept,
                    quarantined=kept,
                )
            )
        state.cursor = group.pages[-1].batch.cursor
        state.note = group.pages[-1].batch.note
    for page, outcome in zip(parts, outcomes, strict=True):
        result.fetched += outcome.fetched
        result.inserted += outcome.inserted
        result.duplicates += outcome.duplicates
        result.quarantined += outcome.quarantined
        if page.batch.after_commit is not None:
            page.batch.after_commit(outcome)
    return group.pages[-1].batch.has_more


def _merged(pages: list[_Page]) -> _Page:
    """Several pages as one: their records, rejects and count rows in fetch order."""
    if len(pages) == 1:
        return pages[0]
    batch = Batch(
        records=[r for page in pages for r in page.batch.records],
        cursor=pages[-1].batch.cursor,
        counts=[c for page in pages for c in page.batch.counts],
        rejected=[r for page in pages for r in page.batch.rejected],
    )
    return _Page(
        batch,
        good=[c for page in pages for c in page.good],
        bad=[r for page in pages for r in page.bad],
    )


def _record_success(
    state: SourceState,
    batch: Batch,
    good: list[NormalizedComplaint],
    inserted: int,
    quarantined: int,
    now: datetime,
) -> None:
    """Health: records and quarantine per run (summed over its batches), newest event time."""
    state.last_run_at = now
    state.last_success_at = now
    state.consecutive_failures = 0
    state.records_last_run = (state.records_last_run or 0) + inserted + len(batch.counts)
    state.quarantined_last_run = (state.quarantined_last_run or 0) + quarantined
    state.total_records = (state.total_records or 0) + inserted + len(batch.counts)
    newest = [c.received_at for c in good]
    newest += [
        c.interval_start + timedelta(minutes=c.interval_minutes)
        for c in batch.counts
        if c.count > 0
    ]
    if newest:
        latest = min(max(newest), now)
        if state.last_received_at is None or latest > state.last_received_at:
            state.last_received_at = latest


def _read_cursor(factory: sessionmaker[Session], name: str) -> str:
    with factory() as session:
        return session.scalar(select(SourceState.cursor).where(SourceState.name == name)) or ""


def _state(session: Session, name: str, kind: str, lock: bool = False) -> SourceState:
    state = session.get(SourceState, name, with_for_update=lock)
    if state is None:
        state = SourceState(
            name=name, kind=kind, cursor="", total_records=0, consecutive_failures=0
        )
        session.add(state)
    return state


def _scrub(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {
            str(k): ("***" if str(k) in IDENTITY_FIELDS and v else _scrub(v))
            for k, v in raw.items()
        }
    if isinstance(raw, list | tuple):
        return [_scrub(v) for v in raw]
    return raw


def rejected(raw: object, reason: str, external_id: str | None = None) -> Rejected:
    """A quarantine entry with identity fields dropped and everything else masked."""
    try:
        payload = json.dumps(_scrub(raw), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        payload = repr(raw)[:100_000]
    if external_id is None:
        external_id = str(raw.get("id") or "") if isinstance(raw, Mapping) else ""
    clean = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", "", payload)
    return Rejected(
        external_id=re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", "", mask_text(external_id))[:128],
        reason=re.sub(r"[\x00\ud800-\udfff]", "", mask_text(reason)),
        payload=mask_text(clean),
    )


def _record_failure(
    factory: sessionmaker[Session], name: str, kind: str, now: datetime, error: str
) -> None:
    try:
        with session_scope(factory) as session:
            state = _state(session, name, kind)
            state.last_run_at = now
            state.last_error = error
            state.last_error_at = now
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
    except Exception as exc:  # the database itself is down: one line, no traceback
        log.warning("could not record failure of source %s: %s", name, type(exc).__name__)
