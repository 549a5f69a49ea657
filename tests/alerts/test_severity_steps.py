"""Severity steps from rules.yaml graded against an alert's evidence (domain.severity)."""

from __future__ import annotations

from config.rules import SeverityStep
from domain.severity import EvidenceStats, severity_for, step_applies

STEPS = [
    SeverityStep(min_count=20, severity=3),
    SeverityStep(min_count=5, min_regulator=2, severity=2),
    SeverityStep(min_media=1, min_regions=3, severity=1),
]


def test_a_step_applies_only_when_every_condition_it_sets_holds():
    assert step_applies(STEPS[1], EvidenceStats(count=5, regulator=2))
    assert not step_applies(STEPS[1], EvidenceStats(count=5, regulator=1))
    assert not step_applies(STEPS[1], EvidenceStats(count=4, regulator=9))


def test_the_most_serious_applicable_step_wins_and_never_a_milder_one():
    assert severity_for(4, STEPS, EvidenceStats(count=3)) == 4
    assert severity_for(4, STEPS, EvidenceStats(count=25, regulator=2)) == 2
    assert severity_for(4, STEPS, EvidenceStats(count=6, regions=3, media=1)) == 1
    assert severity_for(1, STEPS, EvidenceStats(count=25)) == 1  # base already the most serious
