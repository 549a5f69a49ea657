"""Baselines fitted on past days are fitted again when complaints of those days arrive late."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.detect.rules.base import REFIT_LATE_HISTORY
from alerts.detect.rules.event import EventEvaluator
from alerts.detect.rules.surge import SurgeEvaluator
from config.rules import EventRule, SurgeRule
from tests.alerts.detection_helpers import (
    AFTER,
    FIT,
    LATE,
    START,
    TODAY,
    late_history_rows,
    reader_for,
)


def _late_findings(evaluator, changed_at: datetime | None, now: datetime = AFTER) -> list:
    """Fit on the early data at FIT; optionally report late history; evaluate at ``now``."""
    everything, early = late_history_rows()
    before = reader_for(early)
    before.advance(FIT)
    evaluator.evaluate(before, FIT)
    if changed_at is not None:
        evaluator.history_changed(changed_at)
    after = reader_for(everything)
    after.advance(now)
    return [f for f in evaluator.evaluate(after, now) if LATE in f.key.values()]


def surge() -> SurgeEvaluator:
    return SurgeEvaluator(SurgeRule(name="surge", kind="surge"))


def test_a_baseline_without_the_late_product_sees_its_ordinary_day_as_a_surge():
    """The control: unchanged, the day's baseline has never seen the product."""
    assert _late_findings(surge(), changed_at=None)


def test_late_history_refits_the_baseline_and_the_ordinary_day_is_no_surge():
    assert _late_findings(surge(), changed_at=START) == []


def test_complaints_of_today_only_do_not_refit():
    """Live data is always of today: only history before the fitted midnight counts as late."""
    assert _late_findings(surge(), changed_at=TODAY + timedelta(minutes=1))


def test_late_history_refits_at_most_once_an_hour():
    """A source that always delivers yesterday's complaints must not refit every tick."""
    soon = FIT + REFIT_LATE_HISTORY - timedelta(minutes=5)
    assert _late_findings(surge(), changed_at=START, now=soon)
    assert _late_findings(surge(), changed_at=START, now=FIT + REFIT_LATE_HISTORY) == []


def test_event_rule_tag_rates_are_refitted_on_late_history():
    """The keyword-event rule's daily tag rates follow the same rule. Today's storm complaints
    of P1 make the rule fit its rates at FIT; the late product's 28 days of them come after."""
    evaluator = EventEvaluator(EventRule(name="event", kind="event"))
    everything, _ = late_history_rows()
    storm = [
        {**r, "event_tag": "暴雨"}
        if r["product_code"] == LATE or (r["product_code"] == "P1" and r["received_at"] >= TODAY)
        else r
        for r in everything
    ]
    before = reader_for([r for r in storm if r["product_code"] != LATE])
    before.advance(FIT)
    evaluator.evaluate(before, FIT)
    assert evaluator._tag_fit.fitted_at == FIT and evaluator._tag_rates.get("暴雨", 0.0) == 0.0
    evaluator.history_changed(START)
    after = reader_for(storm)
    after.advance(AFTER)
    evaluator.evaluate(after, AFTER)
    assert evaluator._tag_rates["暴雨"] > 20  # 30 a day over the history
