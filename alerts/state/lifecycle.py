"""The alert state machine: pending → firing → (acknowledged) → resolved, one alert per fingerprint.

``step`` is pure over an ``Alert`` object (which needs no database session), so the worker and
the backtest share it; ``apply_findings`` wires it to an ``AlertStore``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from alerts.detect.findings import Finding
from alerts.state.situations import AlertView, lead_for
from domain.states import AlertState
from storage.models import Alert, AlertEvent
from storage.queries import active_alerts


@dataclass(frozen=True)
class Transition:
    kind: str  # created, fired, updated, severity_raised, resolved, reopened
    from_state: str
    to_state: str
    message: str = ""


class RuleTiming(Protocol):
    # read-only: the rule models are frozen
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def for_minutes(self) -> int: ...
    @property
    def resolve_after_minutes(self) -> int: ...


def new_alert(finding: Finding, now: datetime) -> Alert:
    return Alert(
        fingerprint=finding.fingerprint,
        rule=finding.rule,
        rule_kind=finding.rule_kind,
        key=finding.key,
        title=finding.title,
        severity=finding.severity,
        state=AlertState.PENDING.value,
        started_at=now,
        fired_at=None,
        last_seen_at=now,
        below_since=None,
        acknowledged_at=None,
        acknowledged_by="",
        resolved_at=None,
        count=finding.count,
        expected=finding.expected,
        score=finding.score,
        evidence=finding.evidence(),
        silenced=False,
        parent_alert_id=None,
        episode=0,
        episode_at=None,
    )


def reopens(alert: Alert, rule: RuleTiming, now: datetime) -> bool:
    """Whether a finding about a resolved alert's fingerprint reopens it rather than opening a
    new one: a person resolved it after it fired while its condition still held (the
    lifecycle resolves only after ``resolve_after_minutes`` below it), no longer ago than
    that. It is the same incident; a new alert would split its history and tell the on-call
    "已恢复" and "首次通知" at once. To stop hearing of it, people silence it."""
    return (
        alert.state == AlertState.RESOLVED
        and alert.fired_at is not None
        and alert.below_since is None
        and alert.resolved_at is not None
        and now - alert.resolved_at <= timedelta(minutes=rule.resolve_after_minutes)
    )


def reopen(alert: Alert, now: datetime) -> Transition:
    """The resolved alert fires again as its next episode; acknowledging is asked anew."""
    alert.state = AlertState.FIRING.value
    alert.episode = (alert.episode or 0) + 1
    alert.episode_at = now
    alert.resolved_at = None
    alert.acknowledged_at = None
    alert.acknowledged_by = ""
    alert.below_since = None
    return Transition(
        "reopened",
        AlertState.RESOLVED.value,
        alert.state,
        f"第 {alert.episode + 1} 次触发",
    )


def step(
    alert: Alert, finding: Finding | None, rule: RuleTiming, now: datetime
) -> list[Transition]:
    """Advance one active alert by one tick; ``finding`` is None when the condition is false."""
    before = alert.state
    transitions: list[Transition] = []
    if finding is not None:
        alert.last_seen_at = now
        alert.below_since = None
        alert.count, alert.expected, alert.score = finding.count, finding.expected, finding.score
        alert.title = finding.title
        reported = int((alert.evidence or {}).get("reported_count", finding.count))
        first = [
            v
            for v in ((alert.evidence or {}).get("first_at"), finding.details.get("first_at"))
            if v
        ]
        alert.evidence = {**finding.evidence(), "reported_count": reported}
        if first:  # the start is the earliest complaint ever counted, not the window's edge
            alert.evidence["first_at"] = min(first, key=datetime.fromisoformat)
        if before != AlertState.PENDING and finding.count >= max(reported * 1.5, reported + 5):
            # the audit trail notes real growth, not every tick's small change
            alert.evidence["reported_count"] = finding.count
            transitions.append(
                Transition("updated", before, before, f"count {reported} → {finding.count}")
            )
        if finding.severity < alert.severity:  # severity only rises while an alert lives
            transitions.append(
                Transition(
                    "severity_raised", before, before, f"{alert.severity} → {finding.severity}"
                )
            )
            alert.severity = finding.severity
        if before == AlertState.PENDING and now - alert.started_at >= timedelta(
            minutes=rule.for_minutes
        ):
            alert.state = AlertState.FIRING.value
            alert.fired_at = now
            alert.evidence["reported_count"] = finding.count
            transitions.append(Transition("fired", before, alert.state, f"count {finding.count}"))
        return transitions
    if before == AlertState.PENDING:
        return _resolve(alert, now, "condition cleared before firing")
    if alert.below_since is None:
        alert.below_since = now
    if now - alert.below_since >= timedelta(minutes=rule.resolve_after_minutes):
        return _resolve(alert, now, f"below condition for {rule.resolve_after_minutes} min")
    return transitions


def _resolve(alert: Alert, now: datetime, why: str) -> list[Transition]:
    before = alert.state
    alert.state = AlertState.RESOLVED.value
    alert.resolved_at = now
    return [Transition("resolved", before, alert.state, why)]


class AlertStore(Protocol):
    def active_for_rule(self, rule: str) -> Iterable[Alert]: ...

    def last_resolved(self, rule: str, fingerprint: str) -> Alert | None: ...

    def add(self, alert: Alert) -> None: ...

    def record(self, alert: Alert, transition: Transition, now: datetime) -> None: ...


def apply_findings(
    store: AlertStore, rule: RuleTiming, findings: list[Finding], now: datetime
) -> list[tuple[Alert, Transition]]:
    """Create, update and resolve the rule's alerts from this tick's findings."""
    changes: list[tuple[Alert, Transition]] = []
    active = {a.fingerprint: a for a in store.active_for_rule(rule.name)}
    for finding in findings:
        alert = active.pop(finding.fingerprint, None)
        if alert is None:
            last = store.last_resolved(rule.name, finding.fingerprint)
            if last is not None and reopens(last, rule, now):
                alert = last
                reopened = reopen(alert, now)
                store.record(alert, reopened, now)
                changes.append((alert, reopened))
        if alert is None:
            alert = new_alert(finding, now)
            store.add(alert)
            created = Transition("created", "", alert.state, finding.title)
            store.record(alert, created, now)
            changes.append((alert, created))
        for transition in step(alert, finding, rule, now):
            store.record(alert, transition, now)
            changes.append((alert, transition))
    for alert in active.values():
        for transition in step(alert, None, rule, now):
            store.record(alert, transition, now)
            changes.append((alert, transition))
    return changes


class SqlAlertStore:
    """Alerts and their audit trail in the database, inside the caller's transaction."""

    def __init__(self, session):
        self.session = session

    def active_for_rule(self, rule: str) -> list[Alert]:
        return active_alerts(self.session, rule)

    def last_resolved(self, rule: str, fingerprint: str) -> Alert | None:
        return self.session.scalar(
            select(Alert)
            .where(Alert.rule == rule, Alert.fingerprint == fingerprint)
            .where(Alert.state == AlertState.RESOLVED.value)
            .order_by(Alert.resolved_at.desc(), Alert.id.desc())
            .limit(1)
        )

    def add(self, alert: Alert) -> None:
        self.session.add(alert)
        self.session.flush()

    def record(self, alert: Alert, transition: Transition, now: datetime) -> None:
        self.session.add(
            AlertEvent(
                alert_id=alert.id,
                at=now,
                kind=transition.kind,
                from_state=transition.from_state,
                to_state=transition.to_state,
                actor="system",
                message=transition.message,
            )
        )


def _view(alert: Alert) -> AlertView:
    ids = frozenset((alert.evidence or {}).get("complaint_ids") or [])
    return AlertView(alert.id, dict(alert.key or {}), ids, alert.parent_alert_id)


def link_situations(session, changes: list[tuple[Alert, Transition]], now: datetime) -> int:
    """Attach this tick's new alerts to the situation they belong to (``alerts.state.situations``).

    The lead takes the attached alert's severity when that is higher, so the one page people
    get is as urgent as the worst part of the situation. Returns how many were attached.
    """
    new = [a for a, t in changes if t.kind == "created" and a.parent_alert_id is None]
    if not new:
        return 0
    active = {a.id: a for a in active_alerts(session)}
    views = [_view(a) for a in active.values()]
    linked = 0
    for alert in sorted(new, key=lambda a: a.id):
        lead_id = lead_for(_view(alert), views)
        if lead_id is None or lead_id not in active:
            continue
        lead = active[lead_id]
        alert.parent_alert_id = lead.id
        views = [_view(a) for a in active.values()]
        session.add(AlertEvent(alert_id=alert.id, at=now, kind="linked", actor="system",
                               from_state=alert.state, to_state=alert.state,
                               message=f"与告警 #{lead.id} 属同一情况，由其统一通知"))  # fmt: skip
        if alert.severity < lead.severity:
            session.add(AlertEvent(alert_id=lead.id, at=now, kind="severity_raised",
                                   actor="system", from_state=lead.state, to_state=lead.state,
                                   message=f"{lead.severity} → {alert.severity}（关联告警 "
                                   f"#{alert.id}）"))  # fmt: skip
            lead.severity = alert.severity
        linked += 1
    return linked
