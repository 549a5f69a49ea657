"""What people do to alerts (from the dashboard or an acknowledge link), each in the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.state.inhibition import inhibited_by
from alerts.state.silences import alert_labels
from alerts.state.transition import record, record_note, transition
from config.roster import Person, RosterFile
from domain.states import ACTIVE_ALERT_STATES, AlertState, EventKind, NotificationStatus
from storage.models import Alert, AlertEvent, Notification, Silence


class ActionError(ValueError):
    """The action does not apply to the alert in its current state (said in Chinese, then
    English: the page shows it as it is)."""


STATE_WORDS = {
    "pending": "待确认",
    "firing": "告警中",
    "acknowledged": "已确认",
    "resolved": "已解除",
}


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise ActionError(f"告警 #{alert_id} 不存在 / alert {alert_id} does not exist")
    return alert


def acknowledge(session: Session, alert_id: int, actor: str, now: datetime, via: str = "") -> Alert:
    """``via`` says how, when not the dashboard (e.g. "短信回复 1234") for the audit trail.
    A situation's lead is acknowledged with its situation: its members not yet acknowledged
    are acknowledged by the same person (``acknowledge_member``)."""
    alert = _get(session, alert_id)
    if alert.state not in (AlertState.FIRING, AlertState.PENDING):
        raise ActionError(
            f"告警已是{STATE_WORDS.get(alert.state, alert.state)}，无需确认 / cannot acknowledge an alert that is {alert.state}"
        )
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    transition(session, alert, AlertState.ACKNOWLEDGED, EventKind.ACKNOWLEDGED, actor, via, now)
    waiting = [AlertState.FIRING.value, AlertState.PENDING.value]
    members = select(Alert).where(Alert.parent_alert_id == alert.id, Alert.state.in_(waiting))
    for member in session.scalars(members.order_by(Alert.id)):
        message = f"告警 #{alert.id} 所在情况" + (f"，{via}" if via else "")
        acknowledge_member(session, member, alert, actor, message, now)
    return alert


def acknowledge_member(
    session: Session, member: Alert, lead: Alert, actor: str, message: str, now: datetime
) -> None:
    """A situation is acknowledged as one: its lead's acknowledgement holds its members (only
    the lead pages), by the person who acknowledged the lead; ``message`` says so in the
    member's audit trail, written by ``actor``."""
    member.acknowledged_at = now
    member.acknowledged_by = lead.acknowledged_by
    transition(
        session, member, AlertState.ACKNOWLEDGED, EventKind.ACKNOWLEDGED, actor, message, now
    )


def resolve(session: Session, alert_id: int, actor: str, now: datetime, note: str = "") -> Alert:
    alert = _get(session, alert_id)
    if alert.state == AlertState.RESOLVED:
        raise ActionError("告警已解除 / alert is already resolved")
    alert.resolved_at = now
    transition(session, alert, AlertState.RESOLVED, EventKind.RESOLVED, actor, note, now)
    return alert


def add_note(session: Session, alert_id: int, actor: str, now: datetime, note: str) -> Alert:
    if not note.strip():
        raise ActionError("备注为空 / note is empty")
    alert = _get(session, alert_id)
    record_note(session, alert.id, EventKind.NOTE, note.strip()[:4000], now, actor)
    return alert


def merge(session: Session, alert_id: int, actor: str, now: datetime, into_id: int) -> Alert:
    """Put an alert into another's situation, as the engine does on its own (alerts.state.situations):
    from now on it is paged through that situation's lead, which takes the worse severity."""
    if alert_id == into_id:
        raise ActionError("不能并入自身")
    alert, target = _get(session, alert_id), _get(session, into_id)
    if AlertState.RESOLVED in (alert.state, target.state):
        raise ActionError("已解除的告警不能合并")
    lead = session.get(Alert, target.parent_alert_id) if target.parent_alert_id else target
    lead = lead or target
    if lead.id == alert.id:
        raise ActionError(f"#{into_id} 已并入本告警")
    for member in session.scalars(select(Alert).where(Alert.parent_alert_id == alert.id)):
        member.parent_alert_id = lead.id  # its own attached alerts follow it
    alert.parent_alert_id = lead.id
    message = f"由 {actor} 并入告警 #{lead.id}，由其统一通知"
    record(session, alert, EventKind.LINKED, actor, message, now)
    if alert.severity < lead.severity:
        message = f"{lead.severity} → {alert.severity}（并入 #{alert.id}）"
        record(session, lead, EventKind.SEVERITY_RAISED, actor, message, now)
        lead.severity = alert.severity
    return alert


def escalate_now(session: Session, alert_id: int, actor: str, now: datetime) -> Alert:
    """Page the next escalation level now instead of after its minutes (the planner counts the
    ``escalate_now`` events of the alert's current episode)."""
    alert = _get(session, alert_id)
    if alert.state != AlertState.FIRING:
        raise ActionError("只有未确认的告警可以立即升级")
    record(session, alert, EventKind.ESCALATE_NOW, actor, "", now)
    return alert


def reassign(
    session: Session, alert_id: int, actor: str, now: datetime, person: str, roster: RosterFile
) -> Alert:
    """Hand the alert to a person from the roster: the planner pages them at once and from then on
    sends them the on-call's pages (first page, reminders) instead of the person on call."""
    alert = _get(session, alert_id)
    if alert.state == AlertState.RESOLVED:
        raise ActionError("已解除的告警不能转交 / cannot reassign a resolved alert")
    _not_a_member(session, alert)
    new = _person(roster, person)
    if new.id == alert.assignee:
        raise ActionError(f"{new.name} 已是负责人 / {new.id} already owns this alert")
    alert.assignee = new.id
    record(session, alert, EventKind.REASSIGNED, actor, new.id, now)
    return alert


def add_responder(
    session: Session, alert_id: int, actor: str, now: datetime, person: str, roster: RosterFile
) -> Alert:
    """Page one more person from the roster now, the owner unchanged (once per person and
    episode: the planner keys the page by both)."""
    alert = _get(session, alert_id)
    if alert.state not in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
        raise ActionError(
            f"告警{STATE_WORDS.get(alert.state, alert.state)}，不能添加响应人 / "
            f"cannot add a responder to an alert that is {alert.state}"
        )
    _not_a_member(session, alert)
    new = _person(roster, person)
    if new.id == alert.assignee or new.id in _paged(session, alert):
        raise ActionError(f"{new.name} 已收到此告警的通知 / {new.id} has already been paged")
    record(session, alert, EventKind.RESPONDER_ADDED, actor, new.id, now)
    return alert


def _not_a_member(session: Session, alert: Alert) -> None:
    """A member of an active situation is paged through its lead: a page asked for here would
    wait until the lead is over, so people are sent to the lead."""
    lead = inhibited_by(session, alert)
    if lead is not None:
        raise ActionError(
            f"此告警已并入 #{lead}，请在 #{lead} 上操作 / this alert is part of #{lead}: act on #{lead}"
        )


def _person(roster: RosterFile, person_id: str) -> Person:
    person = next((p for p in roster.people if p.id == person_id), None)
    if person is None:
        raise ActionError(f"值班表中没有此人 / {person_id!r} is not in the roster")
    return person


def _paged(session: Session, alert: Alert) -> set[str]:
    """Who has been paged about the alert's current episode, or is about to be (a responder
    added but not planned yet)."""
    rows = select(Notification.receiver).where(
        Notification.alert_id == alert.id,
        Notification.status.not_in(
            [NotificationStatus.CANCELLED.value, NotificationStatus.SUPPRESSED.value]
        ),
    )
    added = select(AlertEvent.message).where(
        AlertEvent.alert_id == alert.id, AlertEvent.kind == EventKind.RESPONDER_ADDED.value
    )
    if alert.episode_at is not None:
        rows = rows.where(Notification.created_at >= alert.episode_at)
        added = added.where(AlertEvent.at >= alert.episode_at)
    return set(session.scalars(rows)) | set(session.scalars(added))


def silence_alert(
    session: Session, alert_id: int, actor: str, now: datetime, minutes: int, comment: str
) -> Silence:
    """Silence this alert's rule and key for a while; it stays recorded but is not notified.
    A situation's lead is silenced with its situation: the one silence holds its members too
    (``silences.catches``), and each active member's audit trail says so."""
    if minutes <= 0:
        raise ActionError("静默时长须大于 0 / silence duration must be positive")
    alert = _get(session, alert_id)
    labels = alert_labels(alert)
    matchers = {k: v for k, v in labels.items() if k not in ("severity", "rule_kind")}
    silence = Silence(
        matchers=matchers,
        starts_at=now,
        ends_at=now + timedelta(minutes=minutes),
        created_by=actor,
        comment=comment,
        created_at=now,
    )
    session.add(silence)
    alert.silenced = True
    record_note(session, alert.id, EventKind.SILENCED, f"{minutes} min: {comment}", now, actor)
    active = [s.value for s in ACTIVE_ALERT_STATES]
    members = select(Alert).where(Alert.parent_alert_id == alert.id, Alert.state.in_(active))
    for member in session.scalars(members.order_by(Alert.id)):
        member.silenced = True
        message = f"{minutes} min（告警 #{alert.id} 所在情况）: {comment}"
        record_note(session, member.id, EventKind.SILENCED, message, now, actor)
    return silence


# Labels a silence may match on (alerts.state.silences.alert_labels), in the order people read them.
SILENCE_LABELS = (
    "rule",
    "severity",
    "product_code",
    "product_line",
    "region",
    "channel",
    "category",
    "event_tag",
    "branch",
    "source",
    "cluster",
)
MAX_SILENCE = timedelta(days=7)


def create_silence(
    session: Session,
    matchers: dict[str, list[str]],
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    comment: str,
    now: datetime,
) -> Silence:
    """A silence as an object (Alertmanager's): label matchers, a start and an end, an author
    and a reason. Every matching alert in that time is recorded but nobody is paged."""
    wanted = {k: [str(v) for v in vs if str(v).strip()] for k, vs in matchers.items()}
    wanted = {k: vs for k, vs in wanted.items() if vs}
    if not wanted:
        raise ActionError(
            "静默至少要有一个匹配条件（否则会静默全部告警） / a silence needs at least one matcher (it would silence everything)"
        )
    unknown = sorted(set(wanted) - set(SILENCE_LABELS))
    if unknown:
        raise ActionError(f"未知标签 / unknown label(s) {unknown}; use {', '.join(SILENCE_LABELS)}")
    if ends_at <= starts_at or ends_at <= now:
        raise ActionError(
            "静默须在开始之后、且在将来结束 / a silence must end after it starts, and in the future"
        )
    if ends_at - starts_at > MAX_SILENCE:
        raise ActionError(
            "静默最长 7 天，到期请复核后另设 / a silence lasts at most 7 days: review it and set another"
        )
    if not comment.strip():
        raise ActionError(
            "请写明原因（值班人员都能看到） / say why (the reason is shown to everyone on duty)"
        )
    silence = Silence(
        matchers={k: vs[0] if len(vs) == 1 else vs for k, vs in wanted.items()},
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
        comment=comment.strip()[:2000],
        created_at=now,
    )
    session.add(silence)
    session.flush()  # its id, for the caller and the list
    return silence


def end_silence(session: Session, silence_id: int, actor: str, now: datetime) -> Silence:
    """End a silence now; its row stays (who made it, why, and who ended it early)."""
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise ActionError(f"静默 #{silence_id} 不存在 / silence {silence_id} does not exist")
    if silence.ends_at <= now:
        raise ActionError("静默已结束 / the silence has already ended")
    silence.ends_at = max(now, silence.starts_at)
    silence.comment = f"{silence.comment}\n— {actor} ended it early at {now:%Y-%m-%d %H:%M} UTC"
    return silence
