"""What people do to alerts (from the dashboard or an acknowledge link), each in the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alerts.silences import alert_labels
from storage.models import Alert, AlertEvent, AlertState, Silence


class ActionError(ValueError):
    """The action does not apply to the alert in its current state."""


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise ActionError(f"alert {alert_id} does not exist")
    return alert


def _log(session: Session, alert: Alert, kind: str, actor: str, now: datetime, **kw: Any) -> None:
    session.add(AlertEvent(alert_id=alert.id, at=now, kind=kind, actor=actor, **kw))


def acknowledge(session: Session, alert_id: int, actor: str, now: datetime, via: str = "") -> Alert:
    """``via`` says how, when not the dashboard (e.g. "短信回复 1234") for the audit trail."""
    alert = _get(session, alert_id)
    if alert.state not in (AlertState.FIRING, AlertState.PENDING):
        raise ActionError(f"cannot acknowledge an alert that is {alert.state}")
    before = alert.state
    alert.state = AlertState.ACKNOWLEDGED.value
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    _log(
        session,
        alert,
        "acknowledged",
        actor,
        now,
        from_state=before,
        to_state=alert.state,
        message=via,
    )
    return alert


def resolve(session: Session, alert_id: int, actor: str, now: datetime, note: str = "") -> Alert:
    alert = _get(session, alert_id)
    if alert.state == AlertState.RESOLVED:
        raise ActionError("alert is already resolved")
    before = alert.state
    alert.state = AlertState.RESOLVED.value
    alert.resolved_at = now
    _log(
        session,
        alert,
        "resolved",
        actor,
        now,
        from_state=before,
        to_state=alert.state,
        message=note,
    )
    return alert


def add_note(session: Session, alert_id: int, actor: str, now: datetime, note: str) -> Alert:
    if not note.strip():
        raise ActionError("note is empty")
    alert = _get(session, alert_id)
    _log(session, alert, "note", actor, now, message=note.strip()[:4000])
    return alert


def silence_alert(
    session: Session, alert_id: int, actor: str, now: datetime, minutes: int, comment: str
) -> Silence:
    """Silence this alert's rule and key for a while; it stays recorded but is not notified."""
    if minutes <= 0:
        raise ActionError("silence duration must be positive")
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
    _log(session, alert, "silenced", actor, now, message=f"{minutes} min: {comment}")
    return silence
