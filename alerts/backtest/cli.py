"""``manage.py backtest``: load, validate, replay, summarise. The replay itself is alerts.backtest.replay."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from alerts.backtest.io import BacktestInputError, LoadReport, load_complaints, load_counts
from alerts.backtest.replay import BacktestSummary, default_jobs, parse_tick, run_backtest
from config.loader import load_file
from config.rules import RulesFile


def print_summary(
    report: LoadReport, summary: BacktestSummary, out_path: Path, counts: bool = False
) -> None:
    if counts:
        print(f"计数 counts: {report.rows} rows, {report.loaded} replayed ({report.weight} "
              f"complaints), {report.skipped} skipped ({report.bad_dates} bad interval_start, "
              f"{report.bad_counts} bad count)")  # fmt: skip
    else:
        print(f"投诉 complaints: {report.rows} rows, {report.loaded} replayed, {report.skipped} "
              f"skipped ({report.bad_dates} bad received_at, {report.missing_ids} empty id, "
              f"{report.duplicate_ids} duplicate id)")  # fmt: skip
    if report.naive_dates:
        print(f"  {report.naive_dates} times without offset read as local time")
    if report.named_products:
        print(f"  {report.named_products} rows without product_code keyed by product_name")
    for example in report.examples:
        print(f"  skipped: {example}")
    if summary.start and summary.end:
        print(f"时间范围 span: {summary.start.isoformat()} → {summary.end.isoformat()}, "
              f"{summary.ticks} ticks")  # fmt: skip
    total = sum(summary.fired.values())
    print(f"告警 alerts fired: {total} → {out_path}")
    for rule, n in sorted(summary.fired.items()):
        print(f"  {rule}: {n}")
    for rule, error in summary.failed_rules.items():
        print(f"  rule {rule} FAILED: {error}", file=sys.stderr)
    print(f"用时 elapsed: {summary.seconds:.1f} s")


def backtest_command(
    complaints: Path,
    out: Path,
    rules_path: Path,
    tick: str,
    progress: bool = True,
    jobs: int | None = None,
    counts: bool = False,
    interval: str = "5m",
) -> int:
    """Exit code 0 on success, 1 for bad rules, bad input or a failing rule.

    ``counts``: ``complaints`` is a count file (interval_start, count, key columns), each row
    the complaints of one ``interval``. ``jobs``: processes sharing the rules (default
    ``alerts.backtest.replay.default_jobs``).
    """
    rules, issues = load_file(rules_path, RulesFile)
    if not rules_path.exists():
        print(f"ERROR rules file not found: {rules_path}", file=sys.stderr)
        return 1
    if rules is None:
        for issue in issues:
            print(f"ERROR {issue}", file=sys.stderr)
        return 1
    try:
        step: timedelta = parse_tick(tick)
        if counts:
            length = parse_tick(interval)
            frame, report = load_counts(complaints, rules.calendar.timezone, length)
        else:
            frame, report = load_complaints(complaints, rules.calendar.timezone)
    except (BacktestInputError, ValueError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as stream:
        summary = run_backtest(
            frame, rules, stream, step, progress=progress, jobs=jobs or default_jobs()
        )
    print_summary(report, summary, out, counts)
    return 1 if summary.failed_rules else 0
