"""The send-time check: a queued row is compared with its alert again just before it goes out.

Rows wait in the outbox (group wait, backoff, rate limits): an escalation queued seconds before
someone acknowledged must not page the manager afterwards. Cancelled rows keep their place in
the table (status ``cancelled``) and the alert's audit trail says why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alerts.notify.outbox import MESSAGE
from alerts.state.transition import record_note
from domain.states import AlertState, EventKind, NotificationStatus
from storage.models import Alert, Notification

CANCELLED = NotificationStatus.CANCELLED.value


def outdated_reason(row: Notification, alert: Alert | None) -> str:
    """Why a queued row no longer applies to its alert now ("" = still send it). A resolved
    notice always applies; a reminder for an acknowledged alert stops once it is resolved."""
    if row.kind == MESSAGE or row.alert_state == AlertState.RESOLVED:
        return ""
    if alert is None:
        return "告警已不存在"
    if alert.state == AlertState.RESOLVED:
        return "告警已恢复"
    if row.alert_state == AlertState.FIRING and alert.state == AlertState.ACKNOWLEDGED:
        who = f"（{alert.acknowledged_by}）" if alert.acknowledged_by else ""
        return f"告警已确认{who}"
    return ""


def cancel_outdated(
    session: Session, rows: list[Notification], now: datetime
) -> list[Notification]:
    """Cancel claimed rows that no longer apply (see ``outdated_reason``); return the rest.

    Runs in the claiming transaction, so the check and the claim see the same alert state; each
    cancellation is written to the alert's audit trail.
    """
    keep = []
    for row in rows:
        alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
        why = outdated_reason(row, alert)
        if not why:
            keep.append(row)
            continue
        row.status, row.last_error = CANCELLED, f"cancelled at send time: {why}"
        if alert is not None:
            text = f"{why}，取消待发通知：{row.message}（{row.channel} → {row.receiver}）"
            record_note(session, alert.id, EventKind.NOTIFY_CANCELLED, text, now)
    return keep
