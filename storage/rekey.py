"""Move a source's stored complaints and counts to the product codes its alias table now gives.

Ingest resolves products through the source's alias table (``domain.products``), and an
unknown product is keyed by its name. When an alias is added later, the complaints and counts
stored before keep the old key: the product's history is split in two series, and its surge
baseline starts again from nothing. This module rewrites the old keys once, in one transaction,
so that nothing is lost or counted twice: count rows are moved (added to the rows already under
the new key), count-only deliveries follow them so that a later re-delivery replaces where it
should, and the repeat flags of the moved complaints are recomputed under their new product.
Monthly snapshots are dropped when complaints move: their repeat and upgrade counts pair a
customer's complaints by product, and the worker rebuilds them from the moved history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from domain.products import ProductTable
from storage.ingest import add_counts
from storage.models import (
    COUNT_DIMENSIONS,
    Complaint,
    ComplaintCount,
    CountDelivery,
    MonthlySnapshot,
)
from storage.repeats import CHUNK, REPEAT_WINDOW, flag_repeats


@dataclass(frozen=True)
class ComplaintMove:
    """Complaints of one source stored as (code, name, line) ``old`` that now resolve to ``new``."""

    old: tuple[str, str, str]
    new: tuple[str, str, str]
    complaints: int


@dataclass(frozen=True)
class CountMove:
    """Count rows (and count-only deliveries) of one source under (code, line) ``old``."""

    old: tuple[str, str]
    new: tuple[str, str]
    rows: int
    total: int


@dataclass(frozen=True)
class Plan:
    source: str
    complaints: list[ComplaintMove]
    counts: list[CountMove]
    ambiguous: list[tuple[str, str]]  # count keys whose complaints resolve to several products

    def __bool__(self) -> bool:
        return bool(self.complaints or self.counts)


def plan_rekey(session: Session, source: str, table: ProductTable) -> Plan:
    """What ``apply_rekey`` would change for ``source``; reads only."""
    complaint_moves: list[ComplaintMove] = []
    targets: dict[tuple[str, str], set[tuple[str, str]]] = {}  # count key → where its rows go
    grouped = (
        select(Complaint.product_code, Complaint.product_name, Complaint.product_line, func.count())
        .where(Complaint.source == source)
        .group_by(Complaint.product_code, Complaint.product_name, Complaint.product_line)
    )
    for code, name, line, n in session.execute(grouped):
        new = table.resolve(code, name, line)
        targets.setdefault((code, line), set()).add((new[0], new[2]))
        if new != (code, name, line):
            complaint_moves.append(ComplaintMove((code, name, line), new, n))
    count_keys: dict[tuple[str, str], tuple[int, int]] = {}
    for model in (ComplaintCount, CountDelivery):
        keys = (
            select(model.product_code, model.product_line, func.count(), func.sum(model.count))
            .where(model.source == source)
            .group_by(model.product_code, model.product_line)
        )
        for code, line, rows, total in session.execute(keys):
            if model is ComplaintCount:
                count_keys[(code, line)] = (rows, int(total or 0))
            else:
                count_keys.setdefault((code, line), (0, 0))
    count_moves: list[CountMove] = []
    ambiguous: list[tuple[str, str]] = []
    for (code, line), (rows, total) in sorted(count_keys.items()):
        product = table.lookup(code)
        if product is not None:
            new = (product.code, product.line or line)
        else:  # a raw code the table does not know, whose complaints resolved by their name
            where = targets.get((code, line), {(code, line)})
            if len(where) > 1:
                ambiguous.append((code, line))
                continue
            new = next(iter(where))
        if new != (code, line):
            count_moves.append(CountMove((code, line), new, rows, total))
    return Plan(source, sorted(complaint_moves, key=lambda m: m.old), count_moves, ambiguous)


def apply_rekey(session: Session, plan: Plan) -> None:
    """Carry out ``plan`` in the caller's transaction."""
    moved_pairs: set[tuple[str, str]] = set()
    first: datetime | None = None
    last: datetime | None = None
    for move in plan.complaints:
        old_code, old_name, old_line = move.old
        where = (
            Complaint.source == plan.source,
            Complaint.product_code == old_code,
            Complaint.product_name == old_name,
            Complaint.product_line == old_line,
        )
        span = session.execute(
            select(func.min(Complaint.received_at), func.max(Complaint.received_at)).where(*where)
        ).one()
        customers = session.scalars(
            select(Complaint.customer_key).where(*where, Complaint.customer_key != "").distinct()
        )
        moved_pairs.update((customer, move.new[0]) for customer in customers)
        session.execute(
            update(Complaint)
            .where(*where)
            .values(product_code=move.new[0], product_name=move.new[1], product_line=move.new[2])
        )
        if span[0] is not None:
            first = span[0] if first is None else min(first, span[0])
            last = span[1] if last is None else max(last, span[1])
    for move in plan.counts:
        _move_counts(session, plan.source, move)
    if moved_pairs and first is not None and last is not None:
        flag_repeats(session, moved_pairs, first - REPEAT_WINDOW, last + REPEAT_WINDOW)
    if plan.complaints:
        session.execute(delete(MonthlySnapshot))


def _move_counts(session: Session, source: str, move: CountMove) -> None:
    """Delete the old key's count rows and add their counts under the new key (where rows of
    the new key may already be: they add up)."""
    (old_code, old_line), (new_code, new_line) = move.old, move.new
    columns = [ComplaintCount.id, ComplaintCount.bucket_start]
    columns += [getattr(ComplaintCount, d) for d in COUNT_DIMENSIONS] + [ComplaintCount.count]
    rows = session.execute(
        select(*columns).where(
            ComplaintCount.source == source,
            ComplaintCount.product_code == old_code,
            ComplaintCount.product_line == old_line,
        )
    ).all()
    moved: Counter[tuple] = Counter()
    for row in rows:
        dims = dict(zip(COUNT_DIMENSIONS, row[2:-1], strict=True))
        dims.update(product_code=new_code, product_line=new_line)
        moved[(row[1], *(dims[d] for d in COUNT_DIMENSIONS))] += cast(int, row[-1])
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(ComplaintCount).where(ComplaintCount.id.in_(ids[start : start + CHUNK]))
        )
    add_counts(session, moved)
    session.execute(
        update(CountDelivery)
        .where(
            CountDelivery.source == source,
            CountDelivery.product_code == old_code,
            CountDelivery.product_line == old_line,
        )
        .values(product_code=new_code, product_line=new_line)
    )


def rekey_sources(
    session: Session, tables: dict[str, ProductTable], apply: bool = False
) -> list[Plan]:
    """The plan for each source's alias table, carried out when ``apply`` (caller's transaction)."""
    plans = []
    for source, table in tables.items():
        plan = plan_rekey(session, source, table)
        if apply and plan:
            apply_rekey(session, plan)
        plans.append(plan)
    return plans


def describe(plan: Plan) -> list[str]:
    """Lines for the operator: every move with how much it carries."""
    lines = []
    for move in plan.complaints:
        old, new = " / ".join(move.old), " / ".join(move.new)
        lines.append(f"  complaints {old} → {new}: {move.complaints}")
    for move in plan.counts:
        old, new = " / ".join(move.old), " / ".join(move.new)
        lines.append(f"  counts {old} → {new}: {move.rows} rows, {move.total} complaints")
    for code, line in plan.ambiguous:
        lines.append(f"  counts {code} / {line}: left, its complaints went to several products")
    return lines
