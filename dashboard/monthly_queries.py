"""Read queries of the monthly accountability report: bounded by receipt time, grouped in SQL
where the report needs totals only, rows only where a customer must be followed across channels."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard.deadlines import DayMode, decision_due
from dashboard.queries import local_day
from dashboard.timeutil import SHANGHAI
from storage.models import Complaint

ROW_COLUMNS = [
    "id",
    "branch",
    "channel",
    "product_code",
    "customer_key",
    "received_at",
    "is_repeat",
    "is_multichannel",
]
KEYED_COLUMNS = ["id", "customer_key", "product_code", "channel", "received_at"]


def cycle_rows(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Every complaint received in [since, until), a few narrow columns each."""
    query = select(*(getattr(Complaint, c) for c in ROW_COLUMNS)).where(
        Complaint.received_at >= since, Complaint.received_at < until
    )
    with Session(engine) as session:
        frame = pd.DataFrame(session.execute(query).all(), columns=ROW_COLUMNS)
    for column in ("is_repeat", "is_multichannel"):
        frame[column] = frame[column].astype(bool)
    return frame


def keyed_rows(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Complaints with a customer key in [since, until): the look-back of upgraded complaints."""
    query = select(*(getattr(Complaint, c) for c in KEYED_COLUMNS)).where(
        Complaint.received_at >= since,
        Complaint.received_at < until,
        Complaint.customer_key != "",
    )
    with Session(engine) as session:
        return pd.DataFrame(session.execute(query).all(), columns=KEYED_COLUMNS)


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
    engine: Engine, since: datetime, until: datetime, now: datetime, mode: DayMode
) -> dict[str, int]:
    """Undecided complaints past their decision deadline at ``now``, per branch. Grouped by
    receipt day and extension level in SQL: a deadline depends on nothing else."""
    day = local_day(engine)
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
        noon = datetime(received.year, received.month, received.day, 12, tzinfo=SHANGHAI)
        if decision_due(noon, int(level), mode) < now:
            out[branch] += int(count)
    return dict(out)


def latest_receipt_day(engine: Engine) -> date | None:
    """The local day of the newest complaint: the default cycle is the one holding it."""
    with Session(engine) as session:
        newest = session.scalar(select(func.max(Complaint.received_at)))
    return None if newest is None else newest.astimezone(SHANGHAI).date()
