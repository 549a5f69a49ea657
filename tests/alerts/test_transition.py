"""``alerts.state.transition`` is the one writer of ``Alert.state`` and of ``AlertEvent`` rows."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from alerts.state.transition import record, record_note, transition
from dashboard.alert_timeline import PHRASES
from domain.states import AlertState, EventKind
from storage.models import AlertEvent
from tests.notify.conftest import add_alert
from tests.test_layers import project_modules

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
WRITER = "alerts.state.transition"


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Lines that set an attribute named ``state``, pass ``state=`` to ``Alert(``, or build an
    ``AlertEvent(`` (no other model has a ``state`` attribute)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                parts = target.elts if isinstance(target, ast.Tuple) else [target]
                if any(isinstance(p, ast.Attribute) and p.attr == "state" for p in parts):
                    found.append((node.lineno, "sets .state"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "AlertEvent":
                found.append((node.lineno, "builds AlertEvent("))
            elif name == "Alert" and any(k.arg == "state" for k in node.keywords):
                found.append((node.lineno, "passes state= to Alert("))
            elif name == "setattr" and any(
                isinstance(a, ast.Constant) and a.value == "state" for a in node.args
            ):
                found.append((node.lineno, "setattr state"))
    return found


def test_only_the_transition_module_writes_alert_state_and_events():
    offenders = [
        f"{name}:{line} {what}"
        for name, path in project_modules().items()
        if name != WRITER
        for line, what in _writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], "use alerts.state.transition instead:\n" + "\n".join(offenders)
    assert _writes(ast.parse("a.state = 'x'\nAlertEvent(kind='note')")), "the check itself works"


def test_every_event_kind_reads_as_words_on_the_timeline():
    assert sorted(set(EventKind) - set(PHRASES)) == []


def test_a_transition_sets_the_state_and_writes_its_event_once(session):
    alert = add_alert(session, NOW)
    transition(session, alert, AlertState.ACKNOWLEDGED, EventKind.ACKNOWLEDGED, "li-na", "", NOW)
    record(session, alert, EventKind.ESCALATE_NOW, "li-na", "", NOW)
    for _ in range(2):
        record_note(session, alert.id, EventKind.NOTIFY_SUPPRESSED, "已静默", NOW, once=True)
    record_note(session, alert.id, EventKind.NOTE, "已联系", NOW + timedelta(minutes=1), "li-na")
    session.commit()
    rows = session.scalars(select(AlertEvent).order_by(AlertEvent.id)).all()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert [(e.kind, e.from_state, e.to_state, e.actor) for e in rows] == [
        ("acknowledged", "firing", "acknowledged", "li-na"),
        ("escalate_now", "acknowledged", "acknowledged", "li-na"),
        ("notify_suppressed", "", "", "system"),
        ("note", "", "", "li-na"),
    ]
