"""Send due notifications: grouped per person and channel, claimed before the network call.

Crash safety: a batch is marked ``sending`` (with a lease in ``next_attempt_at``) and committed
before anything goes out, and marked ``sent`` after. A batch still ``sending`` when its lease has
expired was interrupted (the worker died mid-send): channels whose receivers drop repeated
idempotency keys get the same batch again with the same key; the others are marked ``unknown``
and not resent, because a duplicate page at 3 a.m. is worse than relying on the next escalation
or reminder. A send whose request left but got no answer (a read timeout on a slow robot, an SMTP
session cut after the message data) ends the same way: ``OutcomeUnknown``, never resent blindly.

At send time every claimed row is checked against its alert again: rows wait (group wait,
backoff, rate limits), and a page queued before an acknowledgement must not go out after it.
Every attempt, cancellation and error goes to the alert's audit trail.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.detect.findings import alert_start
from alerts.detect.why import explain, summary_line
from alerts.detect.why_data import why_rows
from alerts.notify.ack_links import ack_url
from alerts.notify.channels import (
    Channel,
    DeliveryError,
    OutcomeUnknown,
    OutgoingMessage,
    RateLimited,
    Recipient,
)
from alerts.notify.fallback import failed_note, falls_back_now, payload_with_note, with_note
from alerts.notify.message import Notice, NoticeItem, where_of
from alerts.notify.outbox import MESSAGE, add_pending, message_from_payload
from alerts.notify.recheck import cancel_outdated
from alerts.state.transition import record_note
from config.loader import RadarConfig
from domain.calendar import HolidayCalendar
from domain.states import ACTIVE_ALERT_STATES, AlertState, EventKind, NotificationStatus
from domain.vocabulary import CHANNELS
from storage.db import session_scope
from storage.installation import installation_id
from storage.models import Alert, Complaint, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 30 min between attempts."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def batch_key(installation: str, person: str, keys: list[str]) -> str:
    """The idempotency key a message goes out with: the same rows to the same person from the
    same database always give the same key (so a resend is dropped), anything else never does.
    Row keys alone repeat across databases (alert #1 of every fresh one), hence the installation
    id; the person keeps two people's copies of one message apart."""
    text = "\n".join([installation, person, *sorted(keys)])
    return "radar-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _batch_of(row_id: int, kind: str, person: str, channel: str) -> tuple:
    """Alert rows for one person and channel go out as one message; any other row alone."""
    return (person, channel) if kind != MESSAGE else (person, channel, MESSAGE, row_id)


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0


def _recipient(config: RadarConfig, person_id: str) -> Recipient:
    person = next((p for p in config.roster.people if p.id == person_id), None)
    if person is None:  # no longer in the roster, or nobody (a report): a name, nothing to reach
        return Recipient.model_construct(id=person_id, name=person_id)
    return person


def _where(session: Session, alert: Alert) -> str:
    """Where, in words: the product's name beside its code and the regions the complaints came
    from (the key of a product alert holds only the code)."""
    ids = ((alert.evidence or {}).get("complaint_ids") or [])[-200:]
    if not ids:
        return where_of(alert.key or {})
    rows = session.execute(
        select(Complaint.product_name, Complaint.region, Complaint.text)
        .where(Complaint.id.in_(ids))
        .order_by(Complaint.id)
    ).all()
    names = Counter(name for name, _, _ in rows if name)
    regions = Counter(region for _, region, _ in rows if region)
    name = names.most_common(1)[0][0] if names else ""
    return where_of(
        alert.key or {},
        name,
        [r for r, _ in regions.most_common()],
        products=[n for n, _ in names.most_common()],
        sample=next((text for _, _, text in rows if text), ""),
    )


def _sample(session: Session, alert: Alert) -> str:
    ids = (alert.evidence or {}).get("complaint_ids") or []
    if not ids:
        return ""
    complaint = session.get(Complaint, ids[-1])
    return complaint.text if complaint is not None else ""


def _why(session: Session, alert: Alert) -> str:
    """What sets the alert's complaints apart, in a few words (alerts.detect.why): the on-call reads
    "mostly 广州, '定损金额' ×14" without opening the dashboard. Never blocks a page."""
    try:
        mine, baseline = why_rows(session, alert)
        return summary_line(explain(mine, baseline), CHANNELS)
    except Exception:  # an explanation is a courtesy; the alert goes out without it
        log.exception("why of alert %s failed; sent without it", alert.id)
        return ""


def _related(session: Session, alert: Alert) -> list[Alert]:
    """The active alerts attached to this one (its situation): the one page a situation gets
    says what else fired on the same complaints."""
    active = [s.value for s in ACTIVE_ALERT_STATES]
    query = select(Alert).where(Alert.parent_alert_id == alert.id, Alert.state.in_(active))
    return list(session.scalars(query.order_by(Alert.severity, Alert.id)))


def _item(
    session: Session, row: Notification, alert: Alert, dashboard: str, now: datetime, tz: tzinfo
) -> NoticeItem:
    acknowledgeable = row.alert_state == AlertState.FIRING and alert.state == AlertState.FIRING
    related = _related(session, alert) if row.alert_state != AlertState.RESOLVED else []
    return NoticeItem(
        alert_id=alert.id,
        state=row.alert_state,
        severity=alert.severity,
        title=alert.title,
        count=alert.count,
        expected=alert.expected,
        where=_where(session, alert),
        expected_label="阈值" if alert.rule_kind == "threshold" else "预期",
        since=alert_start(alert.evidence, alert.fired_at or alert.started_at).astimezone(tz),
        detail_url=f"{dashboard.rstrip('/')}/alerts?alert={alert.id}",
        ack_url=ack_url(dashboard, alert.id, row.receiver, now) if acknowledgeable else "",
        reason=row.message.split("（", 1)[0] if row.alert_state != AlertState.RESOLVED else "",
        sample=_sample(session, alert) if row.alert_state == AlertState.FIRING else "",
        why=_why(session, alert) if row.alert_state == AlertState.FIRING else "",
        related=tuple((a.id, a.title) for a in related[:3]),
        related_total=len(related),
    )


def build_message(
    session: Session, rows: list[Notification], config: RadarConfig, dashboard: str, now: datetime
) -> OutgoingMessage:
    """One grouped message for rows that share a person and a channel, most severe first."""
    key = batch_key(installation_id(session), rows[0].receiver, [r.idempotency_key for r in rows])
    if rows[0].kind == MESSAGE:  # not about an alert: sent alone, as queued (see _batch_of)
        message = message_from_payload(rows[0], _recipient(config, rows[0].receiver))
        return replace(message, idempotency_key=key)
    pairs = [(row, session.get(Alert, row.alert_id)) for row in rows]
    pairs = sorted(
        ((r, a) for r, a in pairs if a is not None), key=lambda p: (p[1].severity, p[1].id)
    )
    tz = HolidayCalendar(config.rules.calendar).tz
    items = [_item(session, row, alert, dashboard, now, tz) for row, alert in pairs]
    recipient = _recipient(config, rows[0].receiver)
    notes = {row.message.split("（", 1)[1].rstrip("）") for row in rows if "（" in row.message}
    notice = Notice(
        items=items,
        dashboard_url=dashboard,
        receiver_name=recipient.name,
        note="；".join(sorted(notes)),
        mention_phones=[recipient.phone] if recipient.phone else [],
    )
    alerts = [
        {
            "id": alert.id,
            "rule": alert.rule,
            "key": alert.key,
            "severity": alert.severity,
            "state": row.alert_state,
            "count": alert.count,
            "escalation_level": row.escalation_level,
            "fired_at": (alert.fired_at or alert.started_at).isoformat(),
        }
        for row, alert in pairs
    ]
    return OutgoingMessage(idempotency_key=key, notice=notice, recipient=recipient, alerts=alerts)


def _events(
    session: Session, rows: list[Notification], kind: EventKind, text: str, now: datetime
) -> None:
    for alert_id in sorted({r.alert_id for r in rows if r.alert_id is not None}):
        record_note(session, alert_id, kind, text[:2000], now)


def _claim(session: Session, ids: list[int], status: str, now: datetime) -> list[Notification]:
    """Mark rows ``sending`` with a lease; only rows still in ``status`` are taken."""
    rows = list(
        session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids), Notification.status == status)
            .order_by(Notification.id)
            .with_for_update()
        )
    )
    for row in rows:
        row.status = NotificationStatus.SENDING
        row.next_attempt_at = now + LEASE
        row.attempts += 1
    return rows


def _send_batch(
    factory: sessionmaker[Session],
    ids: list[int],
    from_status: str,
    channel: Channel | None,
    config: RadarConfig,
    dashboard: str,
    now: datetime,
) -> Outcome:
    with session_scope(factory) as session:
        rows = cancel_outdated(session, _claim(session, ids, from_status, now), now)
        if not rows:
            return Outcome()
        ids = [row.id for row in rows]
        message = build_message(session, rows, config, dashboard, now)
        channel_name = rows[0].channel
        prepare = getattr(channel, "prepare", None)
        if prepare is not None:  # e.g. an SMS reply code, stored with the claim
            message = prepare(session, rows, message, now)
    # Committed: from here on a crash leaves the rows "sending", never "pending".
    error: Exception | None = None
    try:
        if channel is None:
            raise DeliveryError(f"channel {channel_name!r} is not configured or not enabled")
        channel.send(message)
    except Exception as exc:
        error = exc
    with session_scope(factory) as session:
        rows = list(session.scalars(select(Notification).where(Notification.id.in_(ids))))
        rows = [r for r in rows if r.status == NotificationStatus.SENDING]
        if error is None:
            for row in rows:
                row.status, row.sent_at, row.last_error = NotificationStatus.SENT, now, ""
            text = (
                f"{channel_name} → {message.recipient.name}：已发送（第 {rows[0].attempts} 次尝试）"
            )
            _events(session, rows, EventKind.NOTIFIED, text, now)
            return Outcome(sent=len(rows))
        if isinstance(error, OutcomeUnknown) and not (channel and channel.supports_idempotency):
            trail = f"{channel_name} 请求已发出但未收到答复，结果未知，未重发以免重复"
            _mark_unknown(session, rows, trail, str(error), now)
        else:
            _record_failure(session, rows, error, config, now)
    log.warning("notification via %s failed: %s", channel_name, error)
    return Outcome(failed=len(ids))


def _record_failure(
    session: Session, rows: list[Notification], error: Exception, config: RadarConfig, now: datetime
) -> None:
    """Back to pending (after backoff or the platform's wait), or over to the fallback channel
    (see ``alerts.notify.fallback``), or failed for good."""
    reason = str(error) if isinstance(error, DeliveryError) else f"{type(error).__name__}: {error}"
    channel_config = config.channels.get(rows[0].channel) if rows else None
    fallback = channel_config.fallback if channel_config else None
    after = channel_config.fallback_after if channel_config else MAX_ATTEMPTS
    for row in rows:
        row.last_error = reason[:2000]
        alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
        severity = alert.severity if alert is not None else None
        if fallback and falls_back_now(error, row.attempts, after, severity, row.created_at, now):
            row.status = NotificationStatus.FAILED
            _add_fallback(session, row, fallback, now)
        elif isinstance(error, RateLimited):
            row.status = NotificationStatus.PENDING
            row.next_attempt_at = now + timedelta(seconds=max(error.retry_after, 1))
        elif row.attempts >= MAX_ATTEMPTS:
            row.status = NotificationStatus.FAILED
        else:
            row.status = NotificationStatus.PENDING
            row.next_attempt_at = now + backoff(row.attempts)
    if isinstance(error, RateLimited):
        text = f"{rows[0].channel} 限流，稍后重试：{reason}"
    else:
        text = f"{rows[0].channel} 第 {rows[0].attempts} 次发送失败：{reason}" if rows else reason
    _events(session, rows, EventKind.NOTIFY_FAILED, text, now)


def _add_fallback(session: Session, row: Notification, channel: str, now: datetime) -> None:
    """A new row on the secondary channel; its key extends the original so it is planned once.
    Its message says which channel failed."""
    base = row.idempotency_key.split(">", 1)[0]
    key = f"{base}>{channel}"
    if session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
        return
    if _already_goes_by(session, row, base, channel):
        # The route also sends this message to the same person on the fallback channel:
        # falling back would deliver it twice there.
        log.warning("%s failed %d times; it also goes by %s", base, row.attempts, channel)
        _fallback_event(session, row, f"；{channel} 已另行发送，不再重复", now)
        return
    note = failed_note(row.channel, channel)
    add_pending(
        session,
        key,
        alert_id=row.alert_id,
        alert_state=row.alert_state,
        escalation_level=row.escalation_level,
        receiver=row.receiver,
        channel=channel,
        kind=row.kind,
        payload=payload_with_note(row.payload, note),
        message=with_note(row.message, note) if row.kind != MESSAGE else row.message,
        now=now,
    )
    log.warning("%s failed %d times, %s falls back to %s", key, row.attempts, row.channel, channel)
    _fallback_event(session, row, f"，改用 {channel}", now)


def _fallback_event(session: Session, row: Notification, outcome: str, now: datetime) -> None:
    """The alert's audit trail says what became of its failing channel (messages have none)."""
    if row.alert_id is None:
        return
    message = f"{row.channel} 连续失败 {row.attempts} 次{outcome}"
    record_note(session, row.alert_id, EventKind.NOTIFY_FALLBACK, message, now)


def _already_goes_by(session: Session, row: Notification, base: str, channel: str) -> bool:
    """Whether the same message to the same receiver has its own row on ``channel``."""
    if not base.endswith(f":{row.channel}"):
        return False
    sibling = select(Notification.id).where(
        Notification.idempotency_key == f"{base[: -len(row.channel)]}{channel}",
        Notification.receiver == row.receiver,
    )
    return session.scalar(sibling) is not None


def _mark_unknown(
    session: Session, rows: list[Notification], trail: str, error: str, now: datetime
) -> None:
    """The request may have reached people: never resent (the crash path and a timeout after the
    request left end the same way); the next escalation or reminder still follows."""
    for row in rows:
        row.status, row.last_error = NotificationStatus.UNKNOWN, error[:2000]
    _events(session, rows, EventKind.NOTIFY_UNKNOWN, trail, now)


def recover_interrupted(
    factory: sessionmaker[Session],
    channels: dict[str, Channel],
    config: RadarConfig,
    dashboard: str,
    now: datetime,
) -> Outcome:
    """Batches left ``sending`` by a worker that died: resend with the same key where the receiver
    drops duplicates, otherwise mark ``unknown`` (see the module docstring)."""
    outcome = Outcome()
    with session_scope(factory) as session:
        stale = session.execute(
            select(
                Notification.id,
                Notification.receiver,
                Notification.channel,
                Notification.next_attempt_at,
                Notification.kind,
            )
            .where(
                Notification.status == NotificationStatus.SENDING,
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.id)
        ).all()
        batches: dict[tuple, list[int]] = defaultdict(list)
        for row_id, person, channel_name, lease, kind in stale:
            batches[(lease, *_batch_of(row_id, kind, person, channel_name))].append(row_id)
        resend = []
        for (_lease, _person, channel_name, *_), ids in batches.items():
            channel = channels.get(channel_name)
            if channel is not None and channel.supports_idempotency:
                resend.append((ids, channel))
                continue
            rows = list(session.scalars(select(Notification).where(Notification.id.in_(ids))))
            _mark_unknown(
                session,
                rows,
                f"{channel_name} 发送中断，结果未知，未重发以免重复",
                "worker stopped while sending; not resent to avoid a duplicate",
                now,
            )
    for ids, channel in resend:
        result = _send_batch(
            factory, ids, NotificationStatus.SENDING, channel, config, dashboard, now
        )
        outcome.sent += result.sent
        outcome.failed += result.failed
    return outcome


def deliver_due(
    factory: sessionmaker[Session],
    channels: dict[str, Channel],
    config: RadarConfig,
    now: datetime,
    limit: int = 200,
    dashboard_url: str = "http://localhost:8501",
) -> tuple[int, int]:
    """Send pending notifications whose time has come, one message per person and channel;
    returns (rows sent, rows whose attempt failed)."""
    outcome = recover_interrupted(factory, channels, config, dashboard_url, now)
    with session_scope(factory) as session:
        due = session.execute(
            select(Notification.id, Notification.receiver, Notification.channel, Notification.kind)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
    groups: dict[tuple, list[int]] = defaultdict(list)
    for row_id, person, channel_name, kind in due:
        groups[_batch_of(row_id, kind, person, channel_name)].append(row_id)
    for (_person, channel_name, *_), ids in groups.items():
        result = _send_batch(
            factory,
            ids,
            NotificationStatus.PENDING,
            channels.get(channel_name),
            config,
            dashboard_url,
            now,
        )
        outcome.sent += result.sent
        outcome.failed += result.failed
    return outcome.sent, outcome.failed
