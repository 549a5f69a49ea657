"""Detection quality benchmark: labelled streams → backtest → recall, false alerts, time to detect.

Run with ``python manage.py bench --only detection`` (``--quick`` for one stream). Several seeds
and generator settings (volume, dispersion, which Spring Festival) so the rules are not tuned
to one stream. The same replay as ``manage.py backtest`` (alerts.backtest.run_backtest).
"""

from __future__ import annotations

import io
import json
import platform
import statistics
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from alerts.backtest import run_backtest
from alerts.backtest_io import load_complaints
from bench.generator import Stream, generate
from bench.scoring import Score, score
from config.loader import load_file
from config.rules import RulesFile
from config.settings import PROJECT_ROOT

BASELINE_RULES = RulesFile.model_validate(
    {
        "rules": [
            {"name": "fixed-product", "kind": "threshold", "group_by": ["product_code"],
             "window_minutes": 60, "threshold": 8},
            {"name": "fixed-tag", "kind": "threshold", "group_by": ["event_tag"],
             "window_minutes": 360, "threshold": 8},
        ]
    }
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    seed: int
    start: date
    per_day: float
    dispersion: float
    days: int = 60


SCENARIOS = [
    Scenario(11, date(2026, 1, 16), 520, 0.25),  # Spring Festival 2026 (Feb 15-23)
    Scenario(12, date(2024, 12, 27), 600, 0.35),  # Spring Festival 2025, 调休 Jan 26 / Feb 8
    Scenario(13, date(2026, 1, 2), 450, 0.15, 65),
    Scenario(14, date(2025, 1, 6), 580, 0.3),
]


def replay(stream: Stream, rules: RulesFile, workdir: Path, name: str) -> list[dict]:
    """Write the stream as the backtest CSV and replay it, as `manage.py backtest` would."""
    path = workdir / f"{name}.csv"
    stream.complaints.to_csv(path, index=False)
    frame, _ = load_complaints(path, rules.calendar.timezone)
    out = io.StringIO()
    run_backtest(frame, rules, out, progress=False)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def combine(scores: list[Score]) -> Score:
    total = Score(0, 0, 0, 0, 0.0)
    for s in scores:
        total.events += s.events
        total.detected += s.detected
        total.false_alerts += s.false_alerts
        total.alerts += s.alerts
        total.product_days += s.product_days
        total.ttd_minutes += s.ttd_minutes
        total.missed += s.missed
        for rule, n in s.false_rules.items():
            total.false_rules[rule] = total.false_rules.get(rule, 0) + n
    return total


def line(label: str, s: Score) -> str:
    return (f"{label:<22} recall {s.recall:5.3f} ({s.detected}/{s.events})  false/1000 product-days "
            f"{s.false_per_1000:5.2f} ({s.false_alerts} of {s.alerts})  median TTD "
            f"{s.median_ttd:6.1f} min")  # fmt: skip


def run(scenarios: list[Scenario], rules: RulesFile, workdir: Path) -> dict[str, Score]:
    results: dict[str, list[Score]] = {"rules.yaml": [], "fixed threshold": []}
    for sc in scenarios:
        stream = generate(sc.seed, sc.start, sc.days, per_day=sc.per_day, dispersion=sc.dispersion)
        product_days = stream.products * stream.days
        for label, ruleset in (("rules.yaml", rules), ("fixed threshold", BASELINE_RULES)):
            alerts = replay(stream, ruleset, workdir, f"seed{sc.seed}")
            s = score(alerts, stream.events, product_days)
            results[label].append(s)
            print(f"  seed {sc.seed} {sc.start} {line(label, s)}")
            if label == "rules.yaml" and (s.missed or s.false_rules):
                print(f"      missed {s.missed}; false by rule {s.false_rules}")
    return {label: combine(scores) for label, scores in results.items()}


def bench_detection(quick: bool = False, rules_path: Path | None = None) -> int:
    """Print the detection quality of config/rules.yaml and of the fixed-threshold baseline."""
    import tempfile

    rules, issues = load_file(rules_path or PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    if rules is None:
        for issue in issues:
            print(f"ERROR {issue}")
        return 1
    started = time.perf_counter()
    scenarios = SCENARIOS[:1] if quick else SCENARIOS
    print(f"detection benchmark: {len(scenarios)} labelled streams, {platform.node()}, "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    with tempfile.TemporaryDirectory() as workdir:
        totals = run(scenarios, rules, Path(workdir))
    print("overall")
    for label, s in totals.items():
        print(f"  {line(label, s)}")
    ours = totals["rules.yaml"]
    by_kind: dict[str, int] = {}
    for missed in ours.missed:
        kind = missed.split(":", 1)[1]
        by_kind[kind] = by_kind.get(kind, 0) + 1
    print(f"  missed by kind: {by_kind or 'none'}")
    if ours.ttd_minutes:
        print(f"  TTD quartiles (min): {statistics.quantiles(ours.ttd_minutes, n=4)}")
    print(f"targets: recall >= 0.95, <= 1 false / 1000 product-days, median TTD <= 60 min; "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return 0
