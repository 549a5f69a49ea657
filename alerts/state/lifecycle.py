"""The alert state machine: pending → firing → (acknowledged) → resolved, one alert per fingerprint.

``apply_findings`` and ``step`` work on ``Alert`` objects and an ``AlertStore`` (the database's,
or the backtest's in memory), so the worker and the backtest share them. Every state change and
event goes through ``alerts.state.transition``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from alerts.detect.findings import Finding
from alerts.state.actions import acknowledge_member
from alerts.state.situations import AlertView, lead_for
from alerts.state.transition import Transition, record, transition, write
from domain.states import AlertState, EventKind
from storage.models import Alert
from storage.queries import active_alerts


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


def reopen(store: AlertStore, alert: Alert, now: datetime) -> Transition:
    """The resolved alert fires again as its next episode; acknowledging is asked anew."""
    alert.episode = (alert.episode or 0) + 1
    alert.episode_at = now
    alert.resolved_at = None
    alert.acknowledged_at = None
    alert.acknowledged_by = ""
    alert.below_since = None
    message = f"第 {alert.episode + 1} 次触发"
    return transition(store, alert, AlertState.FIRING, EventKind.REOPENED, "system", message, now)


def step(
    store: AlertStore, alert: Alert, finding: Finding | None, rule: RuleTiming, now: datetime
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
            message = f"count {reported} → {finding.count}"
            transitions.append(record(store, alert, EventKind.UPDATED, "system", message, now))
        if finding.severity < alert.severity:  # severity only rises while an alert lives
            message = f"{alert.severity} → {finding.severity}"
            raised = record(store, alert, EventKind.SEVERITY_RAISED, "system", message, now)
            transitions.append(raised)
            alert.severity = finding.severity
        if before == AlertState.PENDING and now - alert.started_at >= timedelta(
            minutes=rule.for_minutes
        ):
            alert.fired_at = now
            alert.evidence["reported_count"] = finding.count
            message = f"count {finding.count}"
            fired = transition(
                store, alert, AlertState.FIRING, EventKind.FIRED, "system", message, now
            )
            transitions.append(fired)
        return transitions
    if before == AlertState.PENDING:
        return [_resolve(store, alert, now, "condition cleared before firing")]
    if alert.below_since is None:
        alert.below_since = now
    if now - alert.below_since >= timedelta(minutes=rule.resolve_after_minutes):
        why = f"below condition for {rule.resolve_after_minutes} min"
        return [_resolve(store, alert, now, why)]
    return transitions


def _resolve(store: AlertStore, alert: Alert, now: datetime, why: str) -> Transition:
    alert.resolved_at = now
    return transition(store, alert, AlertState.RESOLVED, EventKind.RESOLVED, "system", why, now)


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
                changes.append((alert, reopen(store, alert, now)))
        if alert is None:
            alert = new_alert(finding, now)
            store.add(alert)
            created = transition(
                store, alert, AlertState.PENDING, EventKind.CREATED, "system", finding.title, now
            )
            changes.append((alert, created))
        changes += [(alert, t) for t in step(store, alert, finding, rule, now)]
    for alert in active.values():
        changes += [(alert, t) for t in step(store, alert, None, rule, now)]
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
        self.session.add(alert)  # flushed for its id when its first event is written

    def record(self, alert: Alert, transition: Transition, now: datetime) -> None:
        write(self.session, alert, transition, now)


def _view(alert: Alert) -> AlertView:
    ids = frozenset((alert.evidence or {}).get("complaint_ids") or [])
    return AlertView(alert.id, dict(alert.key or {}), ids, alert.parent_alert_id)


def link_situations(session, changes: list[tuple[Alert, Transition]], now: datetime) -> int:
    """Attach this tick's new alerts to the situation they belong to (``alerts.state.situations``).

    The lead takes the attached alert's severity when that is higher, so the one page people
    get is as urgent as the worst part of the situation. An alert joining an acknowledged
    lead starts acknowledged, as the lead's members were. Returns how many were attached.
    """
    new = [a for a, t in changes if t.kind == EventKind.CREATED and a.parent_alert_id is None]
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
        message = f"与告警 #{lead.id} 属同一情况，由其统一通知"
        record(session, alert, EventKind.LINKED, "system", message, now)
        if alert.severity < lead.severity:
            message = f"{lead.severity} → {alert.severity}（关联告警 #{alert.id}）"
            record(session, lead, EventKind.SEVERITY_RAISED, "system", message, now)
            lead.severity = alert.severity
        if lead.state == AlertState.ACKNOWLEDGED:  # the situation is someone's already
            message = f"告警 #{lead.id} 所在情况已确认"
            acknowledge_member(session, alert, lead, "system", message, now)
        linked += 1
    return linked
