"""Reading a table's new rows by id when writers commit out of id order (PostgreSQL).

PostgreSQL hands out an id when a row is inserted, not when its transaction commits: with two
collectors storing at once, ids 1,000–1,999 can become visible after 2,000–2,999. A reader that
only kept the highest id it had seen would skip the first range for ever, and the copied-text
rule would never see those complaints.

An ``IdCursor`` keeps the holes below its highest id, each with the write transactions the
read that found it could not see (its snapshot's in-progress list, fetched by the same
statement). Ids are handed out in order, so only those transactions can still fill the hole.
It is read again on every tick until none of them is still running; that read sees all they
stored, and the hole is dropped. A hole found while no writer was running is final at once:
ids that never come (a rolled-back store, ids a PostgreSQL ``ON CONFLICT`` used up, rows the
read's time filter left out) cost nothing more.

SQLite has one writer at a time and its ids follow commit order: its cursors keep no holes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, or_

# Up to this many ids in holes are read by id; more, by the span from the lowest to the highest
# (and the rows already delivered filtered out here): a bounded statement either way.
MAX_LISTED_IDS = 2_000


@dataclass(frozen=True)
class Hole:
    lo: int
    hi: int
    writers: frozenset[int]  # write transactions (xids) in progress when it was found

    def __contains__(self, row_id: int) -> bool:
        return self.lo <= row_id <= self.hi


@dataclass(frozen=True)
class IdCursor:
    """Every id up to ``high`` was delivered, except those in ``holes`` (in id order)."""

    high: int = -1
    holes: tuple[Hole, ...] = ()

    @cached_property
    def _starts(self) -> list[int]:
        return [hole.lo for hole in self.holes]

    def wants(self, row_id: int) -> bool:
        if row_id > self.high:
            return True
        i = bisect_right(self._starts, row_id) - 1  # a read's time filter can leave many holes
        return i >= 0 and row_id in self.holes[i]

    def condition(self, id_column: Any) -> ColumnElement[bool]:
        """SQL for the rows this cursor has not delivered (a superset when holes are many)."""
        above = id_column > self.high
        if not self.holes:
            return above
        listed = sum(hole.hi - hole.lo + 1 for hole in self.holes)
        if listed <= MAX_LISTED_IDS:
            ids = [i for hole in self.holes for i in range(hole.lo, hole.hi + 1)]
            return or_(above, id_column.in_(ids))
        lo, hi = min(h.lo for h in self.holes), max(h.hi for h in self.holes)
        return or_(above, id_column.between(lo, hi))


def advance(cursor: IdCursor, ids: Iterable[int], running: frozenset[int] | None) -> IdCursor:
    """The cursor after a read that delivered ``ids`` (all wanted by ``cursor``).

    ``running``: the write transactions the read could not see, or any earlier list (an
    earlier list only keeps holes longer); None on a database whose ids follow commit order.
    A hole none of whose writers is running was read in full by this read, and is dropped.
    """
    delivered = sorted(set(ids))
    holes: list[Hole] = []
    if running:
        for hole in cursor.holes:
            if hole.writers & running:
                holes += _without(hole, delivered)
    previous = cursor.high
    for row_id in delivered:
        if row_id <= cursor.high:
            continue
        if running and row_id > previous + 1:
            holes.append(Hole(previous + 1, row_id - 1, running))
        previous = row_id
    return IdCursor(high=previous, holes=tuple(holes))


def _without(hole: Hole, delivered: list[int]) -> list[Hole]:
    """``hole`` cut around the delivered ids (sorted) inside it."""
    parts: list[Hole] = []
    lo = hole.lo
    inside = delivered[bisect_left(delivered, hole.lo) : bisect_right(delivered, hole.hi)]
    for row_id in inside:
        if row_id > lo:
            parts.append(Hole(lo, row_id - 1, hole.writers))
        lo = row_id + 1
    if lo <= hole.hi:
        parts.append(Hole(lo, hole.hi, hole.writers))
    return parts


def writers_of(value: list[int] | None) -> frozenset[int]:
    return frozenset(value or ())
