"""Read queries of the monthly accountability report: bounded by receipt time, grouped in SQL
where the report needs totals only, rows only where a customer must be followed across channels."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from dashboard.deadlines import DayMode, decision_due
from dashboard.queries import local_day
from domain.calendar import HolidayCalendar
from storage.models import Complaint

COUNT_COLUMNS = ["branch", "channel", "received", "counted", "repeat", "multichannel"]
ESCALATION_COLUMNS = ["id", "branch", "customer_key", "product_code", "channel", "received_at"]


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
    """The complaints since ``lookback`` of every customer who reached a channel above the
    lowest level in [since, until): the only ones that can hold an upgrade. A cycle's hotline
    and web complaints (most of them) are never loaded; the customers are found by index."""
    lowest = min(levels.values(), default=0)
    higher = [channel for channel, level in levels.items() if level > lowest]
    if not higher:
        return pd.DataFrame(columns=ESCALATION_COLUMNS)
    customers = (
        select(Complaint.customer_key)
        .where(
            Complaint.received_at >= since,
            Complaint.received_at < until,
            Complaint.customer_key != "",
            Complaint.channel.in_(higher),
        )
        .distinct()
    )
    query = select(*(getattr(Complaint, c) for c in ESCALATION_COLUMNS)).where(
        Complaint.customer_key.in_(customers),
        Complaint.received_at >= lookback,
        Complaint.received_at < until,
    )
    with Session(engine) as session:
        return pd.DataFrame(session.execute(query).all(), columns=ESCALATION_COLUMNS)


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
