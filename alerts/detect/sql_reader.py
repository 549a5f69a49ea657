"""The live CountReader: counts, texts and source health from the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from alerts.detect.id_cursor import IdCursor, advance, writers_of
from alerts.detect.rules.base import MAX_REFS, ComplaintRef, Filters, Key, SourceHealth, TextRow
from config.sources import SourcesFile
from storage.dialect import dialect_of
from storage.models import Complaint, ComplaintCount, CountDelivery, SourceState
from storage.queries import window_counts


class SqlReader:
    """The ``CountReader`` over the counts, complaints and source state tables."""

    def __init__(self, session: Session, sources: SourcesFile | None = None):
        self.session = session
        self.sources = sources
        # this tick's widest text read: (cursor, since, rows, cursor after)
        self._texts: tuple[IdCursor, datetime, list[TextRow], IdCursor] | None = None

    def window_counts(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
        min_count: int = 1,
    ) -> dict[Key, int]:
        """Complaints per key in [since, until); keys below ``min_count`` are left out."""
        counts = window_counts(self.session, group_by, since, until, filters)
        # a corrected count-only delivery can leave a bucket at 0: no complaint, no key
        return {key: n for key, n in counts.items() if n >= max(min_count, 1)}

    def counts_of_keys(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        keys: Sequence[Key],
        filters: Filters | None = None,
    ) -> list[int]:
        counts = self.window_counts(group_by, since, until, filters)
        return [counts.get(key, 0) for key in keys]

    def distinct_customers(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        filters: Filters | None = None,
    ) -> dict[Key, int] | None:
        columns = [getattr(Complaint, d) for d in group_by]
        query = (
            select(*columns, func.count(func.distinct(Complaint.customer_key)))
            .where(Complaint.received_at >= since, Complaint.received_at < until)
            .where(Complaint.customer_key != "")
            .group_by(*columns)
        )
        for dimension, values in (filters or {}).items():
            query = query.where(getattr(Complaint, dimension).in_(list(values)))
        # without group_by an empty window is one row counting 0: no key
        counts = {tuple(row[:-1]): int(row[-1]) for row in self.session.execute(query) if row[-1]}
        if not counts:
            has_keys = self.session.scalar(
                select(func.count()).select_from(Complaint).where(Complaint.customer_key != "")
            )
            if not has_keys:
                return None
        return counts

    def series(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray]:
        step = timedelta(minutes=step_minutes)
        n_bins = max(1, -(-(until - since) // step))
        columns = [getattr(ComplaintCount, d) for d in group_by]
        binned = self._bin_expression(since, step_minutes)
        if binned is None:  # another database: bin the 5-minute rows in Python
            query = select(ComplaintCount.bucket_start, *columns, func.sum(ComplaintCount.count))
            query = query.group_by(ComplaintCount.bucket_start, *columns)
        else:  # the database sums whole bins: a day is one row per key, not 288
            query = select(binned, *columns, func.sum(ComplaintCount.count))
            query = query.group_by(binned, *columns)
        query = query.where(
            ComplaintCount.bucket_start >= since, ComplaintCount.bucket_start < until
        )
        for dimension, values in (filters or {}).items():
            query = query.where(getattr(ComplaintCount, dimension).in_(list(values)))
        index: dict[Key, int] = {}
        cells: list[tuple[int, int, int]] = []
        for row in self.session.execute(query):
            key = tuple(row[1:-1])
            row_index = index.setdefault(key, len(index))
            b = int(row[0]) if binned is not None else int((row[0] - since) // step)
            cells.append((row_index, b, int(row[-1])))
        matrix = np.zeros((len(index), n_bins), dtype=np.int64)
        if cells:
            r, b, n = np.array(cells, dtype=np.int64).T
            np.add.at(matrix, (r, b), n)
        return list(index), matrix

    def series_cells(
        self,
        group_by: Sequence[str],
        since: datetime,
        until: datetime,
        step_minutes: int,
        filters: Filters | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]:
        # the live worker refreshes once a day, on an insurer's few thousand keys: the dense
        # series is cheap enough here (a backtest refreshes every simulated day, in MemoryReader)
        keys, matrix = self.series(group_by, since, until, step_minutes, filters)
        rows, bins = np.nonzero(matrix)
        return keys, rows, bins, matrix[rows, bins]

    def _bin_expression(self, since: datetime, step_minutes: int):
        """SQL for the bin of ``bucket_start`` ((epoch - since) // step), or None if unknown."""
        if since.microsecond:
            return None  # keep exact floor division for the odd non-whole-second start
        start, seconds = int(since.timestamp()), step_minutes * 60
        epoch = dialect_of(self.session).epoch_seconds(ComplaintCount.bucket_start)
        # integer division (rows are at or after since, so it floors); buckets are whole seconds
        return ((epoch - start) // seconds).label("bin")

    def complaint_refs(
        self,
        key: Mapping[str, str],
        since: datetime,
        until: datetime,
        limit: int = MAX_REFS,
        filters: Filters | None = None,
    ) -> list[ComplaintRef]:
        query = select(
            Complaint.id,
            Complaint.external_id,
            Complaint.region,
            Complaint.channel,
            Complaint.product_code,
            Complaint.received_at,
        ).where(Complaint.received_at >= since, Complaint.received_at < until)
        for dimension, value in key.items():
            query = query.where(getattr(Complaint, dimension) == value)
        for dimension, values in (filters or {}).items():
            query = query.where(getattr(Complaint, dimension).in_(list(values)))
        query = query.order_by(Complaint.received_at, Complaint.id).limit(limit)
        return [ComplaintRef(*row) for row in self.session.execute(query)]

    def stored_since(self, cursors: dict[str, IdCursor]) -> datetime | None:
        """The earliest receipt time among complaints (and count-only deliveries) stored since
        the last call with these ``cursors``, which move on; None when nothing was stored.

        The first call only places the cursors. Whoever stored the rows (any worker,
        ``manage.py import``), the evaluation sees them, also those a PostgreSQL transaction
        committed after higher ids were read (``alerts.detect.id_cursor``).
        """
        earliest: list[datetime] = []
        running = dialect_of(self.session).running_writers(self.session)
        for table, moment in (
            (Complaint, Complaint.received_at),
            (CountDelivery, CountDelivery.interval_start),
        ):
            cursor = cursors.get(table.__tablename__)
            if cursor is None:
                newest = self.session.scalar(select(func.max(table.id))) or 0
                cursors[table.__tablename__] = IdCursor(high=newest)
                continue
            if running is None:  # ids follow commit order: one aggregate row
                newest, first = self.session.execute(
                    select(func.max(table.id), func.min(moment)).where(table.id > cursor.high)
                ).one()
                if newest is not None:
                    cursors[table.__tablename__] = IdCursor(high=newest)
                    earliest.append(first)
                continue
            rows, at_read = self._read_new(cursor, running, table.id, moment)
            cursors[table.__tablename__] = advance(cursor, [r[0] for r in rows], at_read)
            earliest += [min(r[1] for r in rows)] if rows else []
        return min(earliest, default=None)

    def new_texts(self, cursor: IdCursor, since: datetime) -> tuple[list[TextRow], IdCursor]:
        """Complaints received from ``since`` on that ``cursor`` has not delivered, in id order,
        and the cursor past them."""
        cached = self._texts
        if cached is not None and cached[0] == cursor and cached[1] <= since:
            # the event and copied-text rules read the same new texts in one tick (a worker's
            # first tick: days of them): the narrower read is a filter of the wider one
            return [r for r in cached[2] if r.received_at >= since], cached[3]
        running = dialect_of(self.session).running_writers(self.session)
        rows, at_read = self._read_new(
            cursor,
            running,
            Complaint.id,
            Complaint.external_id,
            Complaint.received_at,
            Complaint.text,
            Complaint.product_code,
            Complaint.region,
            Complaint.channel,
            where=Complaint.received_at >= since,
        )
        texts = [TextRow(*row) for row in rows]
        moved = advance(cursor, [r.id for r in texts], at_read)
        self._texts = (cursor, since, texts, moved)
        return texts, moved

    def _read_new(
        self, cursor: IdCursor, running: frozenset[int] | None, *columns: Any, where: Any = None
    ) -> tuple[list[tuple], frozenset[int] | None]:
        """Rows ``cursor`` wants (``columns[0]`` is the id), in id order, and the writers their
        read could not see (``running``, the list from before the read, when it found none)."""
        snapshot = dialect_of(self.session).running_writers_at_read()
        extra = () if snapshot is None else (snapshot,)
        query = (
            select(*columns, *extra)
            .where(cursor.condition(columns[0]), true() if where is None else where)
            .order_by(columns[0])
        )
        found = self.session.execute(query).all()
        if snapshot is None:
            return [tuple(row) for row in found], running
        at_read = writers_of(found[0][-1]) if found else running
        return [tuple(row[:-1]) for row in found if cursor.wants(row[0])], at_read

    def source_health(self) -> list[SourceHealth]:
        if self.sources is None:
            return []
        states = {s.name: s for s in self.session.scalars(select(SourceState))}
        health = []
        for source in self.sources.sources:
            if not source.enabled:
                continue
            state = states.get(source.name)
            last = None
            if state is not None:
                last = state.last_received_at or state.last_success_at
            health.append(SourceHealth(source.name, last, source.silent_after_minutes))
        return health
