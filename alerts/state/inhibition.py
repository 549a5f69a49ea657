"""Inhibition: an event-level alert takes in the per-product alerts it contains (Alertmanager's
inhibit rules from routes.yaml). A contained alert stays recorded; its pages wait for the one
its parent gets, while the parent is active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.state.silences import alert_labels, matches
from alerts.state.transition import record_note
from config.routes import InhibitRule
from domain.states import AlertState, EventKind
from storage.models import Alert

ACTIVE = (AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value)


def _contains(rule: InhibitRule, source: Alert, target: Alert) -> bool:
    src, tgt = alert_labels(source), alert_labels(target)
    if any(src.get(label) is None or src.get(label) != tgt.get(label) for label in rule.equal):
        return False
    if rule.min_overlap <= 0:
        return True
    target_ids = set((target.evidence or {}).get("complaint_ids") or [])
    source_ids = set((source.evidence or {}).get("complaint_ids") or [])
    if not target_ids:
        return False
    return len(target_ids & source_ids) / len(target_ids) >= rule.min_overlap


def link_inhibited(session: Session, rules: list[InhibitRule], now: datetime) -> int:
    """Link per-product alerts to the event-level alert that contains them (parent_alert_id) and
    record it on the child; returns how many links were made. Linked alerts stay recorded."""
    if not rules:
        return 0
    active = list(session.scalars(select(Alert).where(Alert.state.in_(ACTIVE))))
    linked = 0
    for rule in rules:
        sources = [a for a in active if matches(rule.source_match, alert_labels(a))]
        for target in active:
            if target.parent_alert_id is not None or not matches(
                rule.target_match, alert_labels(target)
            ):
                continue
            source = next(
                (s for s in sources if s.id != target.id and _contains(rule, s, target)), None
            )
            if source is None:
                continue
            target.parent_alert_id = source.id
            message = f"包含于事件级告警 #{source.id}，通知由其统一发出"
            record_note(session, target.id, EventKind.INHIBITED, message, now)
            linked += 1
    return linked


def inhibited_by(session: Session, alert: Alert) -> int | None:
    """The active parent alert that suppresses this alert's notifications, if any."""
    if alert.parent_alert_id is None:
        return None
    parent = session.get(Alert, alert.parent_alert_id)
    if parent is not None and parent.state in ACTIVE:
        return parent.id
    return None


class Inhibitor:
    """The muting stage (``alerts.notify.muting.Muter``) of an alert inside an active one: a
    situation's members and inhibited alerts are paged through their parent."""

    recorded = True

    def __init__(self, session: Session):
        self.session = session

    def reason(self, alert: Alert, now: datetime) -> str | None:
        parent = inhibited_by(self.session, alert)
        return None if parent is None else f"并入告警 #{parent}（同一情况），由其统一通知"
