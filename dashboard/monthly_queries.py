"""Read queries of the monthly accountability report: bounded by receipt time, grouped in SQL
where the report needs totals only, rows only where a customer must be followed across channels."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session, aliased

from dashboard.deadlines import DayMode, decision_due
from dashboard.queries import local_day
from domain.calendar import HolidayCalendar
from storage.models import Complaint

COUNT_COLUMNS = ["branch", "channel", "received", "counted", "repeat", "multichannel"]
ESCALATION_COLUMNS = ["id", "branch", "customer_key", "product_code", "channel", "received_at"]
CHUNK = 500  # customer keys per IN list: well under SQLite's and PostgreSQL's parameter limits


def branch_channel_counts(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Per branch and channel: complaints received, counted (once per customer and product on
    that channel; every unkeyed complaint), repeat and multi-channel ones. All in SQL: a
    cycle of a national insurer is a quarter of a million rows."""
    keyed = Complaint.customer_key != ""
    person = Complaint.customer_key.concat("|").concat(Complaint.product_code)
    query = (
        select(
            Complaint.branch,
            Complaint.channel,
            func.count(),
            func.count(func.distinct(case((keyed, person)))) + func.sum(case((keyed, 0), else_=1)),
            func.sum(case((Complaint.is_repeat, 1), else_=0)),
            func.sum(case((Complaint.is_multichannel, 1), else_=0)),
        )
        .where(Complaint.received_at >= since, Complaint.received_at < until)
        .group_by(Complaint.branch, Complaint.channel)
    )
    with Session(engine) as session:
        frame = pd.DataFrame(session.execute(query).all(), columns=COUNT_COLUMNS)
    for column in COUNT_COLUMNS[2:]:
        frame[column] = frame[column].astype(int)
    return frame


def escalation_rows(
    engine: Engine, since: datetime, until: datetime, lookback: datetime, levels: dict[str, int]
) -> pd.DataFrame:
    """The complaints since ``lookback`` of every customer and product that could hold an
    upgrade in [since, until): a complaint on a channel above the lowest level with an earlier
    one below the highest. ``dashboard.monthly.upgraded_ids`` decides on these rows alone.

    Two steps, because one statement made both databases read every complaint since
    ``lookback`` (half a million rows on a national insurer's history): the pairs are found
    with the (customer, product, time) index, then only their complaints are loaded."""
    lowest, top = min(levels.values(), default=0), max(levels.values(), default=0)
    higher = [channel for channel, level in levels.items() if level > lowest]
    lower = [channel for channel, level in levels.items() if level < top]
    if not higher:
        return pd.DataFrame(columns=ESCALATION_COLUMNS)
    late, early = aliased(Complaint), aliased(Complaint)
    before = select(early.id).where(
        early.customer_key == late.customer_key,
        early.product_code == late.product_code,
        early.received_at >= lookback,
        early.received_at <= late.received_at,
        early.id != late.id,
        early.channel.in_(lower),
    )
    pairs = (
        select(late.customer_key, late.product_code)
        .where(
            late.received_at >= since,
            late.received_at < until,
            late.customer_key != "",
            late.channel.in_(higher),
            before.exists(),
        )
        .distinct()
    )
    columns = [getattr(Complaint, c) for c in ESCALATION_COLUMNS]
    with Session(engine) as session:
        wanted = {(key, product) for key, product in session.execute(pairs)}
        customers = sorted({key for key, _product in wanted})
        rows = []
        for start in range(0, len(customers), CHUNK):
            query = select(*columns).where(
                Complaint.customer_key.in_(customers[start : start + CHUNK]),
                Complaint.received_at >= lookback,
                Complaint.received_at < until,
            )
            rows += [
                r for r in session.execute(query) if (r.customer_key, r.product_code) in wanted
            ]
    return pd.DataFrame(rows, columns=ESCALATION_COLUMNS)


def branch_totals(engine: Engine, since: datetime, until: datetime) -> dict[str, int]:
    """Complaints received per branch in [since, until): month over month, year over year."""
    query = (
        select(Complaint.branch, func.count())
        .where(Complaint.received_at >= since, Complaint.received_at < until)
        .group_by(Complaint.branch)
    )
    with Session(engine) as session:
        return {branch: int(n) for branch, n in session.execute(query).all()}


def overdue_by_branch(
    engine: Engine,
    since: datetime,
    until: datetime,
    now: datetime,
    mode: DayMode,
    calendar: HolidayCalendar,
) -> dict[str, int]:
    """Undecided complaints past their decision deadline at ``now``, per branch. Grouped by
    receipt day and extension level in SQL: a deadline depends on nothing else."""
    day = local_day(engine, calendar.tz.key)
    keys = (Complaint.branch, day, Complaint.extension_level)
    query = (
        select(*keys, func.count())
        .where(
            Complaint.received_at >= since,
            Complaint.received_at < until,
            Complaint.decided_at.is_(None),
        )
        .group_by(*keys)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    out: Counter[str] = Counter()
    for branch, received_day, level, count in rows:
        received = pd.Timestamp(received_day).date()
        noon = datetime(received.year, received.month, received.day, 12, tzinfo=calendar.tz)
        if decision_due(noon, int(level), mode, calendar) < now:
            out[branch] += int(count)
    return dict(out)
