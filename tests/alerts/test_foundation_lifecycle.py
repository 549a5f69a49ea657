"""The alert state machine over plain Alert objects (no database needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.detect.findings import Finding
from alerts.state.lifecycle import apply_findings
from domain.states import AlertState

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class Rule:
    name: str = "r"
    kind: str = "threshold"
    for_minutes: int = 0
    resolve_after_minutes: int = 30


class MemoryStore:
    def __init__(self):
        self.alerts, self.log = [], []

    def active_for_rule(self, rule):
        return [a for a in self.alerts if a.rule == rule and a.state != AlertState.RESOLVED]

    def last_resolved(self, rule, fingerprint):
        done = [a for a in self.alerts if a.fingerprint == fingerprint and a.resolved_at]
        return max(done, key=lambda a: a.resolved_at, default=None)

    def add(self, alert):
        alert.id = len(self.alerts) + 1
        self.alerts.append(alert)

    def record(self, alert, transition, now):
        self.log.append((alert.id, transition.kind, now))


def finding(count: int, product: str = "CAR-001", severity: int = 4) -> Finding:
    return Finding(
        rule="r",
        rule_kind="threshold",
        key={"product_code": product},
        count=count,
        expected=10,
        score=count / 10,
        severity=severity,
        title=f"{product} {count}",
        since=T0 - timedelta(hours=1),
        until=T0,
    )


def test_fires_at_once_without_for_and_dedups_by_fingerprint():
    store, rule = MemoryStore(), Rule()
    apply_findings(store, rule, [finding(12)], T0)
    apply_findings(store, rule, [finding(15)], T0 + timedelta(minutes=1))
    assert len(store.alerts) == 1
    alert = store.alerts[0]
    assert (alert.state, alert.count, alert.fired_at) == (AlertState.FIRING, 15, T0)
    assert [k for _, k, _ in store.log] == ["created", "fired"]


def test_waits_for_the_for_duration_before_firing():
    store, rule = MemoryStore(), Rule(for_minutes=10)
    apply_findings(store, rule, [finding(12)], T0)
    apply_findings(store, rule, [finding(12)], T0 + timedelta(minutes=5))
    assert store.alerts[0].state == AlertState.PENDING
    apply_findings(store, rule, [finding(12)], T0 + timedelta(minutes=10))
    assert store.alerts[0].state == AlertState.FIRING


def test_pending_alert_that_clears_never_fires():
    store, rule = MemoryStore(), Rule(for_minutes=10)
    apply_findings(store, rule, [finding(12)], T0)
    apply_findings(store, rule, [], T0 + timedelta(minutes=5))
    assert store.alerts[0].state == AlertState.RESOLVED
    assert store.alerts[0].fired_at is None


def test_resolves_only_after_staying_below_and_a_new_surge_is_a_new_alert():
    store, rule = MemoryStore(), Rule(resolve_after_minutes=30)
    apply_findings(store, rule, [finding(12)], T0)
    apply_findings(store, rule, [], T0 + timedelta(minutes=10))
    apply_findings(store, rule, [], T0 + timedelta(minutes=39))
    assert store.alerts[0].state == AlertState.FIRING
    apply_findings(store, rule, [], T0 + timedelta(minutes=40))
    assert store.alerts[0].state == AlertState.RESOLVED
    apply_findings(store, rule, [finding(20)], T0 + timedelta(minutes=60))
    assert len(store.alerts) == 2 and store.alerts[1].state == AlertState.FIRING


def test_coming_back_above_resets_the_resolve_timer():
    store, rule = MemoryStore(), Rule(resolve_after_minutes=30)
    apply_findings(store, rule, [finding(12)], T0)
    apply_findings(store, rule, [], T0 + timedelta(minutes=20))
    apply_findings(store, rule, [finding(12)], T0 + timedelta(minutes=25))
    apply_findings(store, rule, [], T0 + timedelta(minutes=30))
    apply_findings(store, rule, [], T0 + timedelta(minutes=55))
    assert store.alerts[0].state == AlertState.FIRING


def test_severity_rises_but_never_falls_while_active():
    store, rule = MemoryStore(), Rule()
    apply_findings(store, rule, [finding(12, severity=4)], T0)
    apply_findings(store, rule, [finding(60, severity=2)], T0 + timedelta(minutes=1))
    apply_findings(store, rule, [finding(13, severity=4)], T0 + timedelta(minutes=2))
    assert store.alerts[0].severity == 2
    assert "severity_raised" in [k for _, k, _ in store.log]


def test_acknowledged_alert_stays_acknowledged_while_condition_holds():
    store, rule = MemoryStore(), Rule()
    apply_findings(store, rule, [finding(12)], T0)
    store.alerts[0].state = AlertState.ACKNOWLEDGED.value
    apply_findings(store, rule, [finding(30)], T0 + timedelta(minutes=1))
    assert store.alerts[0].state == AlertState.ACKNOWLEDGED
    assert store.alerts[0].count == 30
