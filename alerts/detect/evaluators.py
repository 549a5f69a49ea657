"""Evaluators kept across ticks (baselines, text indexes), rebuilt only when a rule's config changes.

Shared by the live engine and the backtest so both run the very same evaluator objects' code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.detect.id_cursor import IdCursor
from alerts.detect.rules import RuleContext, RuleEvaluator, build_evaluator
from config.rules import RuleConfig, RulesFile


class EvaluatorSet:
    def __init__(self) -> None:
        self._context_token: tuple[Any, ...] = ()
        self._context = RuleContext()
        self._evaluators: dict[str, tuple[Any, RuleEvaluator]] = {}
        self.stored_cursors: dict[str, IdCursor] = {}  # rows seen (SqlReader.stored_since)

    def context(self, rules: RulesFile) -> RuleContext:
        token = (rules.calendar, rules.severity_channels)
        if token != self._context_token:
            self._context_token = token
            self._context = RuleContext.from_config(rules.calendar, rules.severity_channels)
            self._evaluators.clear()  # a new calendar changes every baseline
        return self._context

    def history_changed(self, before: datetime) -> None:
        """Complaints received from ``before`` on were just stored: the evaluators that fit a
        baseline on past days refit it (``alerts.detect.rules.base.DailyFit``)."""
        for _, evaluator in self._evaluators.values():
            changed = getattr(evaluator, "history_changed", None)
            if changed is not None:
                changed(before)

    def get(self, rule: RuleConfig, rules: RulesFile) -> RuleEvaluator:
        context = self.context(rules)
        cached = self._evaluators.get(rule.name)
        if cached is None or (cached[0] is not rule and cached[0] != rule):
            cached = (rule, build_evaluator(rule, context))
            self._evaluators[rule.name] = cached
        return cached[1]
