"""One evaluation tick: every enabled rule over the counts, then the alert lifecycle.

The worker calls ``evaluate`` with the wall clock; tests call it with any clock. Evaluators are
kept per database engine between ticks so their daily baselines are not refitted every minute.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts.detect.evaluators import EvaluatorSet
from alerts.detect.sql_reader import SqlReader
from alerts.state.lifecycle import SqlAlertStore, Transition, apply_findings, link_situations
from alerts.state.silences import Silences, active_silences
from config.models import RulesFile
from config.sources import SourcesFile
from storage.models import Alert

log = logging.getLogger(__name__)

_EVALUATORS: weakref.WeakKeyDictionary[Engine, EvaluatorSet] = weakref.WeakKeyDictionary()


@dataclass
class TickResult:
    changes: list[tuple[Alert, Transition]] = field(default_factory=list)
    failed_rules: dict[str, str] = field(default_factory=dict)


def evaluators_for(session: Session) -> EvaluatorSet:
    bind = session.get_bind()
    engine = cast(Engine, getattr(bind, "engine", bind))
    if engine not in _EVALUATORS:
        _EVALUATORS[engine] = EvaluatorSet()
    return _EVALUATORS[engine]


def forget_evaluators(engine: Engine) -> None:
    """Drop the evaluators kept for ``engine``: the next evaluation is a first one again, its
    baselines fitted on the history stored by then (the worker, after a fresh database's
    backfill)."""
    _EVALUATORS.pop(engine, None)


def evaluate(
    session: Session, rules: RulesFile, now: datetime, sources: SourcesFile | None = None
) -> TickResult:
    """Evaluate all enabled rules at ``now``; a failing rule is logged and does not stop the others.

    ``sources`` (sources.yaml) gives ``source_silent`` rules each source's silence limit.
    Baselines fitted on past days are fitted again when complaints of those days were stored
    since the last tick (a source back from an outage, a new source's history, an import).
    """
    result = TickResult()
    reader = SqlReader(session, sources)
    store = SqlAlertStore(session)
    evaluators = evaluators_for(session)
    stored_since = reader.stored_since(evaluators.stored_cursors)
    if stored_since is not None:
        evaluators.history_changed(stored_since)
    silences = Silences(active_silences(session, now))
    for rule in rules.rules:
        if not rule.enabled:
            continue
        try:
            with session.begin_nested():
                findings = evaluators.get(rule, rules).evaluate(reader, now)
                changes = apply_findings(store, rule, findings, now)
        except Exception as exc:
            log.exception("rule %s failed", rule.name)
            result.failed_rules[rule.name] = f"{type(exc).__name__}: {exc}"
            continue
        for alert, _ in changes:
            alert.silenced = silences.reason(alert, now) is not None
        result.changes.extend(changes)
    link_situations(session, result.changes, now)
    return result
