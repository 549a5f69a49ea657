"""Load what ``alerts.detect.why`` compares: an alert's complaints and its key's usual ones.

The baseline is the same key's complaints over the four weeks before the alert started (the
most recent ``BASELINE_LIMIT``), excluding the alert's own: bounded, and read through the
(product_code, received_at) and received_at indexes.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.detect.why import Why, explain
from domain.dimensions import ATTRIBUTE_DIMENSIONS
from storage.models import Alert, Complaint

BASELINE_DAYS = 28
BASELINE_LIMIT = 2_000
ALERT_LIMIT = 500
ROW_COLUMNS = ("id", "received_at", "text", "category", "region", "channel", "branch")
# Key dimensions stored on complaints: the baseline is the same key's complaints.
KEY_COLUMNS = ATTRIBUTE_DIMENSIONS


def _rows(session: Session, query) -> list[dict]:
    return [dict(zip(ROW_COLUMNS, row, strict=True)) for row in session.execute(query).all()]


def why_rows(session: Session, alert: Alert) -> tuple[list[dict], list[dict]]:
    """(the alert's complaints oldest first, its key's baseline complaints)."""
    columns = [getattr(Complaint, c) for c in ROW_COLUMNS]
    ids = [int(i) for i in ((alert.evidence or {}).get("complaint_ids") or [])][-ALERT_LIMIT:]
    mine = (
        _rows(
            session, select(*columns).where(Complaint.id.in_(ids)).order_by(Complaint.received_at)
        )
        if ids
        else []
    )
    start = min((r["received_at"] for r in mine), default=alert.started_at)
    query = select(*columns).where(
        Complaint.received_at >= start - timedelta(days=BASELINE_DAYS),
        Complaint.received_at < start,
    )
    for name, value in (alert.key or {}).items():
        if name in KEY_COLUMNS:
            query = query.where(getattr(Complaint, name) == str(value))
    query = query.order_by(Complaint.received_at.desc()).limit(BASELINE_LIMIT)
    return mine, _rows(session, query)


def why_of(session: Session, alert_id: int) -> tuple[Why, list[dict]] | None:
    """The why of one alert and its earliest complaints (None: no such alert)."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    mine, baseline = why_rows(session, alert)
    return explain(mine, baseline), mine[:5]
