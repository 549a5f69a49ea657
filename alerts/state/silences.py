"""Silences: matchers over alert labels; a silenced alert is recorded but not notified."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from storage.models import Alert, Silence


def alert_labels(alert: Alert) -> dict[str, str]:
    """The labels routes and silences match on: rule, severity and the key's dimensions."""
    labels = {"rule": alert.rule, "rule_kind": alert.rule_kind, "severity": str(alert.severity)}
    labels.update({k: str(v) for k, v in (alert.key or {}).items()})
    return labels


def matches(matchers: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Every matcher must hold; a list value means 'any of these'."""
    for name, wanted in matchers.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if labels.get(name) not in {str(v) for v in values}:
            return False
    return True


def catches(matchers: Mapping[str, Any], alert: Alert) -> bool:
    """Whether a silence with these matchers holds the alert: by its own labels, or, for a member
    of a situation (``parent_alert_id``), by its lead's. A situation is silenced as one: its
    members are paged through the lead, and stay quiet with it should the lead end first."""
    if matches(matchers, alert_labels(alert)):
        return True
    session = object_session(alert)
    if alert.parent_alert_id is None or session is None:
        return False
    lead = session.get(Alert, alert.parent_alert_id)
    return lead is not None and matches(matchers, alert_labels(lead))


def active_silences(session: Session, now: datetime) -> list[Silence]:
    query = select(Silence).where(Silence.starts_at <= now, Silence.ends_at > now)
    return list(session.scalars(query))


class Silences:
    """The muting stage (``alerts.notify.muting.Muter``) of the silences in force: the one place
    that decides whether an alert is silenced, for its flag and for its pages."""

    recorded = True

    def __init__(self, silences: list[Silence]):
        self.silences = silences

    def reason(self, alert: Alert, now: datetime) -> str | None:
        silenced = any(catches(s.matchers, alert) for s in self.silences)
        return "已静默：记录但不通知" if silenced else None
