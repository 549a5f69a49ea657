"""The result of one benchmark and how it is printed: console lines and a Markdown table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    """One measured figure with its target; ``reference`` is the baseline it is compared against."""

    name: str
    label: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    reference: float | None = None
    reference_label: str = ""
    ratio_target: float | None = None
    peak_mb: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.reference:
            return None
        return self.value / self.reference

    @property
    def passed(self) -> bool | None:
        """None when there is no target; else whether value (and ratio, if targeted) meet it."""
        checks: list[bool] = []
        if self.target is not None:
            checks.append(
                self.value >= self.target if self.higher_is_better else self.value <= self.target
            )
        if self.ratio_target is not None and self.ratio is not None:
            checks.append(self.ratio >= self.ratio_target)
        return all(checks) if checks else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        return cls(**data)


def fmt_number(value: float) -> str:
    """Readable numbers: thousands separated, small values with 3 significant decimals."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def target_text(figure: Figure) -> str:
    if figure.target is None:
        return "—"
    op = "≥" if figure.higher_is_better else "≤"
    return f"{op} {fmt_number(figure.target)} {figure.unit}"


def ratio_text(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "—"
    text = f"{ratio:.2f} × {figure.reference_label or 'reference'}"
    if figure.ratio_target is not None:
        text += f" (target ≥ {figure.ratio_target:g})"
    return text


def verdict(figure: Figure) -> str:
    return {True: "PASS", False: "MISS", None: "info"}[figure.passed]


def console_line(figure: Figure) -> str:
    return (
        f"[{verdict(figure):4}] {figure.label}: {fmt_number(figure.value)} {figure.unit}"
        f" | target {target_text(figure)} | ratio {ratio_text(figure)}"
        f" | peak {figure.peak_mb:.0f} MB"
    )


def markdown_table(figures: list[Figure]) -> str:
    """The table pasted into docs/PERFORMANCE.md."""
    lines = [
        "| figure | measured | target | ratio to reference | peak memory | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        lines.append(
            f"| {f.label} | {fmt_number(f.value)} {f.unit} | {target_text(f)} | {ratio_text(f)}"
            f" | {f.peak_mb:.0f} MB | {verdict(f)} |"
        )
    return "\n".join(lines)


def dump(figures: list[Figure]) -> str:
    return json.dumps([f.to_json() for f in figures], ensure_ascii=False)


def load(text: str) -> list[Figure]:
    return [Figure.from_json(item) for item in json.loads(text)]
