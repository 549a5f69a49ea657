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

MESSAGE = "message"


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


def queue_message(
    session: Session,
    key: str,
    receiver: str,
    channel: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Insert one pending row unless the key exists; True when this call queued it.

    A savepoint keeps a concurrent insert of the same key (another worker) from rolling back
    the caller's transaction: the unique key decides, and the loser simply did not queue.
    """
    if queued_keys(session, [key]):
        return False
    row = Notification(
        idempotency_key=key,
        alert_id=None,
        alert_state="",
        escalation_level=0,
        receiver=receiver,
        channel=channel,
        kind=MESSAGE,
        payload=payload,
        status=NotificationStatus.PENDING.value,
        attempts=0,
        last_error="",
        created_at=now,
        next_attempt_at=now,
        message=payload.get("title", "")[:2000],
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
