"""Acknowledge by SMS reply: a page carries a short code ("回复 1234 确认"), the person replies it
from the paged phone, and the worker acknowledges the alert for that person.

Why it is safe to act on a text message:
- a code is written (in the transaction that claims the page, before the network call) for one
  number, one person, one alert and the notification row it goes out with; a reply counts only
  from that number, only once that row was handed to the platform (``sent`` or ``unknown``), and
  only once (``used_at``), so restarts and repeated replies never acknowledge twice;
- a code dies when its alert resolves, and is never handed out again while a live code of the
  same number uses it, so a reply names exactly the alerts of the page it answers;
- the acknowledgement itself goes through ``alerts.state.actions.acknowledge``, the only writer of
  alert actions, so the audit trail says who (the receiver) and how (短信回复).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.notify.channels import Channel, DeliveryError, OutgoingMessage
from alerts.state.actions import ActionError, acknowledge
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert, Notification, SmsReplyCode

log = logging.getLogger(__name__)

CODE_DIGITS = 4
HANDED_OVER = ("sent", "unknown")  # the platform has (or may have) the page
CLOCK_SKEW = timedelta(minutes=2)  # the platform's reply time against our clock
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Reply:
    """One text a phone sent back, as the platform reports it."""

    phone: str
    content: str
    at: datetime


def mobile(phone: str) -> str:
    """A mainland mobile as 11 digits, whether written ``139…``, ``+86139…`` or ``0086139…``."""
    digits = "".join(_DIGITS.findall(phone))
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def code_in(content: str) -> str:
    """The code a reply carries: exactly one run of digits of the code's length, else none."""
    runs = _DIGITS.findall(content)
    return runs[0] if len(runs) == 1 and len(runs[0]) == CODE_DIGITS else ""


def _live_codes(session: Session, channel: str, phone: str) -> set[str]:
    query = (
        select(SmsReplyCode.code)
        .join(Alert, Alert.id == SmsReplyCode.alert_id)
        .where(
            SmsReplyCode.channel == channel,
            SmsReplyCode.phone == phone,
            SmsReplyCode.used_at.is_(None),
            Alert.state != AlertState.RESOLVED.value,
        )
    )
    return set(session.scalars(query))


def assign_code(
    session: Session,
    channel: str,
    rows: list[Notification],
    message: OutgoingMessage,
    now: datetime,
) -> str:
    """The code this message carries ("" when nothing in it can be acknowledged).

    The same message sent again (same key) keeps its code; codes made for an earlier attempt of
    these rows under another key never reached anyone (the rows are pending again) and go.
    """
    phone = mobile(message.recipient.phone)
    firing = []
    for row in rows:
        alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
        if alert is not None and row.alert_state == AlertState.FIRING == alert.state:
            firing.append(row)
    if not firing or not phone:
        return ""
    key = message.idempotency_key
    session.execute(
        delete(SmsReplyCode).where(
            SmsReplyCode.notification_id.in_([r.id for r in firing]),
            SmsReplyCode.message_key != key,
            SmsReplyCode.used_at.is_(None),
        )
    )
    kept = session.scalar(select(SmsReplyCode.code).where(SmsReplyCode.message_key == key))
    if kept:
        return kept
    taken = _live_codes(session, channel, phone)
    code = ""
    for _ in range(100):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if code not in taken:
            break
    else:  # pragma: no cover - a hundred live codes on one phone
        return ""
    for row in firing:
        session.add(
            SmsReplyCode(
                channel=channel,
                phone=phone,
                receiver=row.receiver,
                code=code,
                message_key=key,
                alert_id=row.alert_id,
                notification_id=row.id,
                created_at=now,
            )
        )
    session.flush()
    return code


def acknowledge_reply(session: Session, channel: str, reply: Reply, now: datetime) -> list[int]:
    """Acknowledge what the reply's code was sent for; returns the alert ids acknowledged."""
    code = code_in(reply.content)
    if not code:
        return []
    candidates = session.scalars(
        select(SmsReplyCode)
        .where(
            SmsReplyCode.channel == channel,
            SmsReplyCode.phone == mobile(reply.phone),
            SmsReplyCode.code == code,
            SmsReplyCode.used_at.is_(None),
            SmsReplyCode.created_at <= reply.at + CLOCK_SKEW,
        )
        .order_by(SmsReplyCode.id)
    ).all()
    acknowledged = []
    for entry in candidates:
        row = session.get(Notification, entry.notification_id)
        if row is None or row.status not in HANDED_OVER:
            continue  # the page never left: nobody can have this code from us
        alert = session.get(Alert, entry.alert_id)
        if alert is None or alert.state == AlertState.RESOLVED:
            continue  # expired with its alert
        entry.used_at = now
        try:
            with session.begin_nested():
                acknowledge(session, entry.alert_id, entry.receiver, now, via=f"短信回复 {code}")
        except ActionError:
            continue  # already acknowledged (by the dashboard, a link or another reply)
        acknowledged.append(entry.alert_id)
    return acknowledged


def pull_and_acknowledge(
    factory: sessionmaker[Session], channels: dict[str, Channel], now: datetime
) -> list[int]:
    """The worker's job: pull replies from every channel that offers them and acknowledge.

    Replies are handed out once by the platform, so they are applied in one transaction right
    after the pull; a failing pull is logged and retried on the next run.
    """
    acknowledged: list[int] = []
    for name, channel in channels.items():
        pull = getattr(channel, "pull_replies", None)
        if pull is None or not getattr(getattr(channel, "config", None), "ack_template_id", None):
            continue
        try:
            replies = pull()
        except DeliveryError as exc:
            log.warning("pulling SMS replies via %s failed: %s", name, exc)
            continue
        with session_scope(factory) as session:
            for reply in replies:
                done = acknowledge_reply(session, name, reply, now)
                log.info("SMS reply via %s acknowledged alerts %s", name, done or "none")
                acknowledged.extend(done)
    return acknowledged
