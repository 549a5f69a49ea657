"""Decide which notifications are due and write one row each, keyed so that planning twice is a no-op.

Key: ``alert:state:L<level>:R<round>:<route receiver>:<channel>`` — round 0 is the first message of
an escalation level, rounds 1.. are reminders; a reopened alert's ``alert`` part carries its
episode (``12e1``), and its episode's messages are counted from ``Alert.episode_at`` on. The
person (from the roster) goes in ``receiver``. A page asked for by hand (a reassignment, an added
responder) marks the route receiver: ``duty+reassigned.57``, ``duty+responder.li-na``.
Escalation steps and suppressions are written to the alert's audit trail (AlertEvent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alerts.notify.handover import plan_handover
from alerts.notify.message import plain
from alerts.notify.muting import held_back, stages
from alerts.notify.outbox import add_pending
from alerts.notify.roster import receiver_for
from alerts.notify.routing import effective_receivers, effective_route, route_receivers
from alerts.state.inhibition import link_inhibited
from alerts.state.silences import alert_labels
from alerts.state.transition import record, record_note
from config.loader import RadarConfig
from config.roster import ROLE_LABELS, ROLES, Person
from domain.calendar import HolidayCalendar
from domain.states import AlertState, EventKind, NotificationStatus
from storage.models import Alert, AlertEvent, Notification

log = logging.getLogger(__name__)
RESOLVED_LOOKBACK = timedelta(days=2)
GAP_NOTE = "值班表此时无人值班，已发给默认接收人"


@dataclass(frozen=True)
class Key:
    alert_id: int
    state: str
    level: int
    round: int
    route_receiver: str
    channel: str
    episode: int = 0

    def __str__(self) -> str:
        alert = f"{self.alert_id}e{self.episode}" if self.episode else str(self.alert_id)
        return (
            f"{alert}:{self.state}:L{self.level}:R{self.round}:{self.route_receiver}:{self.channel}"
        )

    @classmethod
    def parse(cls, text: str) -> Key:
        alert, state, level, rnd, receiver, channel = text.split(":", 5)
        alert_id, _, episode = alert.partition("e")
        return cls(
            int(alert_id), state, int(level[1:]), int(rnd[1:]), receiver, channel, int(episode or 0)
        )


def idempotency_key(
    alert_id: int, state: str, level: int, receiver: str, channel: str, round_: int = 0
) -> str:
    return str(Key(alert_id, state, level, round_, receiver, channel))


def escalation_level(
    alert: Alert, minutes: dict[int, int], first_notified: datetime | None, now: datetime
) -> int:
    """0 = on-call, 1 = duty manager, 2 = department head; one step per N minutes without
    acknowledgement, counted from the first notification (a silenced alert has not escalated)."""
    step = minutes.get(alert.severity, 0)
    if step <= 0 or alert.state != AlertState.FIRING or first_notified is None:
        return 0
    elapsed = now - first_notified
    return min(int(elapsed / timedelta(minutes=step)), len(ROLES) - 1)


def episode_rows(alert: Alert):
    """Where-clauses for the notifications of the alert's current episode."""
    clauses = [Notification.alert_id == alert.id]
    if alert.episode_at is not None:
        clauses.append(Notification.created_at >= alert.episode_at)
    return clauses


def first_notified(session: Session, alert: Alert) -> datetime | None:
    """When the first message about this firing alert (this episode) was planned (None: not
    yet)."""
    return session.scalar(
        select(Notification.created_at)
        .where(
            *episode_rows(alert),
            Notification.alert_state == AlertState.FIRING.value,
            Notification.escalation_level == 0,
        )
        .order_by(Notification.created_at)
        .limit(1)
    )


def reminder_round(since: datetime | None, every_minutes: int, now: datetime) -> int:
    """How many reminder intervals have passed since ``since`` (0 = none due yet)."""
    if since is None or every_minutes <= 0:
        return 0
    return max(int((now - since) / timedelta(minutes=every_minutes)), 0)


def _add_row(
    session: Session,
    key: Key,
    person: str,
    now: datetime,
    due: datetime,
    reason: str,
    suffix: str = "",
) -> bool:
    """Insert the row unless its key (plus ``suffix``) exists; True when it was new."""
    return add_pending(
        session,
        str(key) + suffix,
        alert_id=key.alert_id,
        alert_state=key.state,
        escalation_level=key.level,
        receiver=person,
        channel=key.channel,
        message=reason,
        now=now,
        due=due,
    )


def plan(session: Session, config: RadarConfig, now: datetime, dashboard_url: str = "") -> int:
    """Create the notification rows that are due at ``now``; returns how many were new."""
    receivers = effective_receivers(config)
    if not receivers:
        return 0
    routes = config.routes
    tree = effective_route(config)
    link_inhibited(session, routes.inhibit_rules, now)
    session.flush()
    muters = stages(session, config, now)
    silences = muters[0]  # stages() asks the silences first
    calendar = HolidayCalendar(config.rules.calendar)
    due = now + timedelta(seconds=routes.group_wait_seconds)
    query = select(Alert).where(
        or_(
            Alert.state.in_([AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value]),
            (Alert.state == AlertState.RESOLVED.value)
            & (Alert.resolved_at >= now - RESOLVED_LOOKBACK),
        )
    )
    people = {p.id: p for p in config.roster.people}
    created = 0
    for alert in session.scalars(query).all():
        if alert.state == AlertState.RESOLVED:
            # Only a silence holds 已恢复 back, and does not drop it: those told it fired hear
            # it is over once the silence ends (within RESOLVED_LOOKBACK), never during it.
            if silences.reason(alert, now) is None:
                created += _plan_resolved(session, alert, now, due)
            continue
        if held_back(session, muters, alert, now):
            continue  # recorded, or deferred by a mute window: planned as soon as it ends
        labels = alert_labels(alert)
        targets = [
            (name, channel)
            for name in route_receivers(tree, labels, now, calendar)
            if name in receivers
            for channel in receivers[name].channels
        ]
        for steps in _steps(session, alert, config, now):
            state, level, round_, person_level, reason = steps
            person, gap = receiver_for(config.roster, now, calendar.tz, person_level)
            # The owner takes the on-call's pages; else whoever acknowledged gets the reminders.
            owner = people.get(alert.assignee) or (
                people.get(alert.acknowledged_by) if state == AlertState.ACKNOWLEDGED else None
            )
            if person_level == 0 and owner is not None:
                person, gap = owner, False
            if person is None:
                message = f"无人可通知：{reason}"
                record_note(session, alert.id, EventKind.ESCALATION_GAP, message, now, once=True)
                continue
            note = f"{reason}（{GAP_NOTE}）" if gap else reason
            new_level = state == AlertState.FIRING and round_ == 0 and level > 0
            if new_level and not _level_started(session, alert, level):
                message = f"{reason}：{person.name}"
                record(session, alert, EventKind.ESCALATED, "system", message, now)
            for name, channel in targets:
                key = Key(alert.id, state, level, round_, name, channel, alert.episode)
                created += _add_row(session, key, person.id, now, due, note)
        created += _plan_by_hand(session, alert, people, targets, now, due)
    return created + plan_handover(session, config, now, dashboard_url)


def _plan_by_hand(
    session: Session,
    alert: Alert,
    people: dict[str, Person],
    targets: list[tuple[str, str]],
    now: datetime,
    due: datetime,
) -> int:
    """The pages people asked for in this episode: the owner named by the latest reassignment
    (its event id in the key: a later one pages again) and each added responder (the person in
    the key: once per episode). The mark goes into the receiver part, so the key still parses
    and ends with the channel (fallback and resolved notices work as for any row)."""
    query = select(AlertEvent).where(
        AlertEvent.alert_id == alert.id,
        AlertEvent.kind.in_([EventKind.REASSIGNED.value, EventKind.RESPONDER_ADDED.value]),
        AlertEvent.to_state.in_([AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value]),
    )
    if alert.episode_at is not None:
        query = query.where(AlertEvent.at >= alert.episode_at)
    events = session.scalars(query.order_by(AlertEvent.id)).all()
    latest = max((e.id for e in events if e.kind == EventKind.REASSIGNED), default=None)
    created = 0
    for event in events:
        person = people.get(event.message)
        asker = _asker(event.actor, people)
        if event.kind == EventKind.REASSIGNED:
            if person is None or event.id != latest or person.id != alert.assignee:
                continue  # handed on again since: only the current owner is paged
            mark, reason = f"reassigned.{event.id}", f"{asker} 将告警转交给你"
        elif person is not None:
            mark, reason = f"responder.{person.id}", f"{asker} 请你协助处理"
        else:
            continue
        if _told_since(session, alert, person.id, event.at, mark):
            continue  # the on-call's own page reached them after the ask: no second page
        for name, channel in targets:
            key = Key(alert.id, event.to_state, 0, 0, f"{name}+{mark}", channel, alert.episode)
            created += _add_row(session, key, person.id, now, due, reason)
    return created


def _told_since(session: Session, alert: Alert, person: str, asked_at: datetime, mark: str) -> bool:
    """Whether another page of this episode was planned for ``person`` since ``asked_at``: the
    on-call made a responder, or the owner named, before the first page was planned (the
    planner had not run yet, or a mute window held the alert back) gets that page only."""
    found = session.scalar(
        select(Notification.id)
        .where(
            *episode_rows(alert),
            Notification.receiver == person,
            Notification.created_at >= asked_at,
            Notification.alert_state.in_([AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value]),
            Notification.status.not_in(
                [NotificationStatus.CANCELLED.value, NotificationStatus.SUPPRESSED.value]
            ),
            Notification.idempotency_key.not_like(f"%+{mark}:%"),
        )
        .limit(1)
    )
    return found is not None


def _asker(actor: str, people: dict[str, Person]) -> str:
    """Who asked, for the page's reason: a roster name, or a typed operator made inert (the
    reason is trusted text, and its "（" starts the note: see ``delivery._item``)."""
    if actor in people:
        return people[actor].name
    return plain(actor, 40).translate({ord("（"): None, ord("）"): None})


def _steps(
    session: Session, alert: Alert, config: RadarConfig, now: datetime
) -> list[tuple[str, int, int, int, str]]:
    """(state, level, round, roster level, reason) for every message this alert should have had."""
    routes = config.routes
    if alert.state == AlertState.ACKNOWLEDGED:
        round_ = reminder_round(alert.acknowledged_at, routes.acknowledged_repeat_minutes, now)
        if round_ == 0:
            return []
        return [(alert.state, 0, round_, 0, f"已确认但未恢复，第 {round_} 次提醒")]
    first = first_notified(session, alert)
    timed = escalation_level(alert, routes.escalation_minutes, first, now)
    level = min(max(timed, _escalated_by_hand(session, alert)), len(ROLES) - 1)
    step = routes.escalation_minutes.get(alert.severity, 0)
    opening = f"第 {alert.episode + 1} 次触发" if alert.episode else "首次通知"
    steps = [(alert.state, 0, 0, 0, opening)]
    for n in range(1, level + 1):
        role = ROLE_LABELS[ROLES[n]]
        why = f"{step * n} 分钟未确认" if n <= timed else "值班人员要求立即"
        steps.append((alert.state, n, 0, n, f"{why}，升级至{role}"))
    round_ = reminder_round(first, routes.repeat_minutes, now)
    if round_ > 0:
        reason = f"仍未确认，第 {round_} 次提醒"
        steps.append((alert.state, level, round_, level, reason))
        if level > 0:  # whoever is on call now hears of it too (the night shift that took over)
            steps.append((alert.state, 0, round_, 0, reason))
    return steps


def _escalated_by_hand(session: Session, alert: Alert) -> int:
    """The level people asked for in this episode: each ``actions.escalate_now`` asks for one
    level above the highest one paged before it (0: nobody asked)."""
    query = select(AlertEvent.at).where(
        AlertEvent.alert_id == alert.id, AlertEvent.kind == EventKind.ESCALATE_NOW.value
    )
    if alert.episode_at is not None:
        query = query.where(AlertEvent.at >= alert.episode_at)
    asked = 0
    for at in session.scalars(query):
        paged = session.scalar(
            select(func.max(Notification.escalation_level)).where(
                *episode_rows(alert),
                Notification.alert_state == AlertState.FIRING.value,
                Notification.created_at < at,
            )
        )
        asked = max(asked, (paged or 0) + 1)
    return asked


def _level_started(session: Session, alert: Alert, level: int) -> bool:
    return (
        session.scalar(
            select(Notification.id)
            .where(
                *episode_rows(alert),
                Notification.alert_state == AlertState.FIRING.value,
                Notification.escalation_level == level,
            )
            .limit(1)
        )
        is not None
    )


def _plan_resolved(session: Session, alert: Alert, now: datetime, due: datetime) -> int:
    """One resolved notice per person and channel that was told it was firing.

    Two people can share a level (the day and the night on-call both reminded at level 0): the
    second one's key carries the person, so each of them hears that it is over."""
    told = session.execute(
        select(Notification.idempotency_key, Notification.receiver, Notification.channel)
        .where(
            *episode_rows(alert),
            Notification.alert_state == AlertState.FIRING.value,
            Notification.status == NotificationStatus.SENT.value,
        )
        .order_by(Notification.id)
    ).all()
    done: set[tuple[str, str]] = set(
        session.execute(
            select(Notification.receiver, Notification.channel).where(
                *episode_rows(alert),
                Notification.alert_state == AlertState.RESOLVED.value,
            )
        ).all()
    )
    created = 0
    for text, person, channel in told:
        if (person, channel) in done:
            continue
        done.add((person, channel))
        key = Key.parse(text.split(">", 1)[0])  # a fallback row's key is "<original key>><channel>"
        resolved = Key(
            alert.id, AlertState.RESOLVED.value, key.level, 0, key.route_receiver, channel,
            alert.episode,
        )  # fmt: skip
        taken = session.scalar(
            select(Notification.receiver).where(Notification.idempotency_key == str(resolved))
        )
        suffix = f"@{person}" if taken is not None and taken != person else ""
        created += _add_row(session, resolved, person, now, due, "已恢复", suffix)
    return created
