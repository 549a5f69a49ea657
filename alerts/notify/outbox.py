"""Messages that are not about an alert (the weekly report) through the notifications outbox.

They get what alert notifications get (retries with backoff, fallback channels, leases so a
restart never sends twice) because ``deliver_due`` sends them: a row of kind "message" whose
``payload`` freezes the message when it is queued, so every retry sends the same text and file.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.notify.channels import Attachment, OutgoingMessage, Recipient
from alerts.notify.message import Notice
from domain.states import NotificationStatus
from storage.models import Notification

ALERT = "alert"  # a row about one alert: its text is built when sent
MESSAGE = "message"  # a report or handover: its payload is frozen when queued


def message_payload(
    title: str, note: str, dashboard_url: str, attachments: tuple[Attachment, ...] = ()
) -> dict[str, Any]:
    """What a queued row must hold to rebuild the message; files as base64 (JSON column)."""
    return {
        "title": title,
        "note": note,
        "dashboard_url": dashboard_url,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in attachments
        ],
    }


def message_from_payload(row: Notification, recipient: Recipient) -> OutgoingMessage:
    """The message for one queued row; its own key, so a receiver can drop a repeat
    (``deliver_due`` replaces it with the per-installation, per-person key)."""
    payload = row.payload or {}
    notice = Notice(
        items=[],
        dashboard_url=payload.get("dashboard_url", ""),
        receiver_name=recipient.name,
        note=payload.get("note", ""),
        headline=payload.get("title", ""),
    )
    files = tuple(
        Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
        for a in payload.get("attachments", [])
    )
    return OutgoingMessage(
        idempotency_key=row.idempotency_key, notice=notice, recipient=recipient, attachments=files
    )


def queued_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these idempotency keys already have a row (in any status)."""
    return set(
        session.scalars(
            select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
        )
    )


def add_pending(
    session: Session,
    key: str,
    *,
    receiver: str,
    channel: str,
    message: str,
    now: datetime,
    due: datetime | None = None,
    alert_id: int | None = None,
    alert_state: str = "",
    escalation_level: int = 0,
    kind: str = ALERT,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Insert one pending row unless ``key`` exists; True when this call added it. The one
    place outbox rows are built (planner, fallback, queued messages).

    A savepoint keeps a concurrent insert of the same key (another worker) from rolling back
    the caller's transaction: the unique key decides, and the loser simply did not add it.
    """
    if queued_keys(session, [key]):
        return False
    row = Notification(
        idempotency_key=key,
        alert_id=alert_id,
        alert_state=alert_state,
        escalation_level=escalation_level,
        receiver=receiver,
        channel=channel,
        kind=kind,
        payload=payload,
        status=NotificationStatus.PENDING.value,
        attempts=0,
        last_error="",
        created_at=now,
        next_attempt_at=due or now,
        message=message,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def queue_message(
    session: Session,
    key: str,
    receiver: str,
    channel: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Queue a message that is not about one alert (a report, a handover); True when new."""
    return add_pending(
        session,
        key,
        receiver=receiver,
        channel=channel,
        kind=MESSAGE,
        payload=payload,
        message=payload.get("title", "")[:2000],
        now=now,
    )
