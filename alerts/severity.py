"""Severity levels used by Chinese insurers for group complaints (1 is the most serious)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SEVERITY_LABELS = {1: "Ⅰ级 特别重大", 2: "Ⅱ级 重大", 3: "Ⅲ级 较大", 4: "Ⅳ级 一般"}
SEVERITY_SHORT = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
SEVERITY_COLOURS = {1: "#e5484d", 2: "#f76b15", 3: "#ffc53d", 4: "#3e63dd"}


@dataclass(frozen=True)
class EvidenceStats:
    """What severity steps look at: size, spread, and who else already knows (regulator, media)."""

    count: int
    regions: int = 0
    channels: int = 0
    regulator: int = 0
    media: int = 0


def step_applies(step: Any, stats: EvidenceStats) -> bool:
    """Every condition the step sets must hold; unset conditions are ignored."""
    checks = (
        (getattr(step, "min_count", None), stats.count),
        (getattr(step, "min_regions", None), stats.regions),
        (getattr(step, "min_channels", None), stats.channels),
        (getattr(step, "min_regulator", None), stats.regulator),
        (getattr(step, "min_media", None), stats.media),
    )
    return all(need is None or have >= need for need, have in checks)


def severity_for(base: int, steps: Sequence[Any], stats: EvidenceStats) -> int:
    """The most serious level among the steps that apply, never milder than ``base``."""
    level = base
    for step in steps:
        if step_applies(step, stats):
            level = min(level, step.severity)
    return level


def severity_for_count(base: int, steps: Sequence[Any], count: int) -> int:
    """Severity from the count alone (kept for callers that have nothing else)."""
    return severity_for(base, steps, EvidenceStats(count=count))
