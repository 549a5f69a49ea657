"""Rule kinds: one evaluator class per ``kind`` in rules.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts.detect.rules.base import CountReader, RuleContext, RuleEvaluator
from alerts.detect.rules.copied_text import CopiedTextEvaluator
from alerts.detect.rules.event import EventEvaluator
from alerts.detect.rules.source_silent import SourceSilentEvaluator
from alerts.detect.rules.surge import SurgeEvaluator
from alerts.detect.rules.threshold import ThresholdEvaluator
from config.rules import RuleConfig

# Each class takes its own member of RuleConfig; a dict cannot tie a kind to that member, so
# the rule parameter is Any here and build_evaluator is typed against the union.
RULE_KINDS: dict[str, Callable[[Any, RuleContext | None], RuleEvaluator]] = {
    "threshold": ThresholdEvaluator,
    "surge": SurgeEvaluator,
    "event": EventEvaluator,
    "copied_text": CopiedTextEvaluator,
    "source_silent": SourceSilentEvaluator,
}


def build_evaluator(rule_config: RuleConfig, context: RuleContext | None = None) -> RuleEvaluator:
    try:
        kind = RULE_KINDS[rule_config.kind]
    except KeyError:
        raise ValueError(f"no evaluator for rule kind {rule_config.kind!r}") from None
    return kind(rule_config, context)


__all__ = ["RULE_KINDS", "CountReader", "RuleContext", "RuleEvaluator", "build_evaluator"]
