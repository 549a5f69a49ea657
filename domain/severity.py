"""Severity levels used by Chinese insurers for group complaints (1 is the most serious)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SEVERITY_LABELS = {1: "Ⅰ级 特别重大", 2: "Ⅱ级 重大", 3: "Ⅲ级 较大", 4: "Ⅳ级 一般"}
SEVERITY_SHORT = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
SEVERITY_COLOURS = {1: "#e5484d", 2: "#f76b15", 3: "#ffc53d", 4: "#3e63dd"}
# Text on a severity fill, chosen for a WCAG contrast of at least 4.5:1 (white on amber was
# 1.6:1, white on orange 3.0:1): dark text on the light fills, white on a deeper red and blue.
SEVERITY_FILLS = {1: "#c62828", 2: "#f76b15", 3: "#ffc53d", 4: "#3451c7"}
SEVERITY_TEXT = {1: "#ffffff", 2: "#111111", 3: "#111111", 4: "#ffffff"}
# An acknowledged alert: someone is on it, so it steps back (its colour as a border-like tint
# on the wall's dark background, light text), while firing ones keep the full fill.
ACKNOWLEDGED_FILL, ACKNOWLEDGED_TEXT = "#2a3242", "#e6e9ef"


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def severity_style(severity: int, acknowledged: bool = False) -> tuple[str, str]:
    """(fill, text) colours of an alert row: full colour while firing, muted once acknowledged."""
    if acknowledged:
        return ACKNOWLEDGED_FILL, ACKNOWLEDGED_TEXT
    return SEVERITY_FILLS.get(severity, "#555555"), SEVERITY_TEXT.get(severity, "#ffffff")


@dataclass(frozen=True)
class EvidenceStats:
    """What severity steps look at: size, spread, and who else already knows (regulator, media)."""

    count: int
    regions: int = 0
    channels: int = 0
    regulator: int = 0
    media: int = 0


class SeverityStepLike(Protocol):
    """One severity step as rules configure it (``config.rules.SeverityStep``, which the domain
    layer must not import): the level it raises to and its conditions, None for unset."""

    @property
    def severity(self) -> int: ...
    @property
    def min_count(self) -> int | None: ...
    @property
    def min_regions(self) -> int | None: ...
    @property
    def min_channels(self) -> int | None: ...
    @property
    def min_regulator(self) -> int | None: ...
    @property
    def min_media(self) -> int | None: ...


def step_applies(step: SeverityStepLike, stats: EvidenceStats) -> bool:
    """Every condition the step sets must hold; unset conditions are ignored."""
    checks = (
        (step.min_count, stats.count),
        (step.min_regions, stats.regions),
        (step.min_channels, stats.channels),
        (step.min_regulator, stats.regulator),
        (step.min_media, stats.media),
    )
    return all(need is None or have >= need for need, have in checks)


def severity_for(base: int, steps: Sequence[SeverityStepLike], stats: EvidenceStats) -> int:
    """The most serious level among the steps that apply, never milder than ``base``."""
    level = base
    for step in steps:
        if step_applies(step, stats):
            level = min(level, step.severity)
    return level
