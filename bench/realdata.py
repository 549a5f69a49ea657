"""The real-data figure: labelled social-media count series replayed through the product's rules.

Data: NAB realTweets (bench/data/nab-realtweets, MIT; README there), or the directory named by
``RADAR_REALDATA_DIR`` holding the same ``counts.csv`` and ``labels.json``. Each series is one
product's social channel; each labelled window is a group event. The product's rules replay the
counts with the count-only backtest (``manage.py backtest --counts``); the two simple peers of
``bench.peers`` run on the same counts; all are scored by ``bench.scoring.score_windows``.
"""

from __future__ import annotations

import io
import json
import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from alerts.backtest.io import load_counts
from alerts.backtest.replay import run_backtest
from bench.peers import INTERVAL, PEERS, peer_alerts
from bench.scoring import SeriesLabels, WindowScore, score_windows
from config.rules import RulesFile
from config.settings import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "bench" / "data" / "nab-realtweets"
SERIES_FIELD = "product_code"


def data_dir() -> Path:
    override = os.environ.get("RADAR_REALDATA_DIR", "").strip()
    return Path(override) if override else DEFAULT_DIR


def read_labels(path: Path) -> dict[str, SeriesLabels]:
    """``labels.json``: per series, ``windows`` [[start, end], …] and ``anomaly_points``."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    series = raw.get("series", raw)
    return {
        name: SeriesLabels(
            windows=tuple(
                (datetime.fromisoformat(a), datetime.fromisoformat(b))
                for a, b in spec.get("windows", [])
            ),
            anomaly_points=tuple(datetime.fromisoformat(p) for p in spec.get("anomaly_points", [])),
        )
        for name, spec in series.items()
    }


def read_counts(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={SERIES_FIELD: str})
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True, format="ISO8601")
    return frame


def series_days(counts: pd.DataFrame, interval: pd.Timedelta = INTERVAL) -> float:
    """Each series' span (first interval start to last interval end) in days, summed."""
    spans = counts.groupby(SERIES_FIELD)["interval_start"].agg(["min", "max"])
    # pandas-stubs: a timedelta Series divided by a Timedelta has no overload (it is a float Series)
    return float(((spans["max"] - spans["min"] + interval) / pd.Timedelta(days=1)).sum())  # type: ignore[operator]


def replay_counts(path: Path, rules: RulesFile) -> list[dict]:
    frame, _ = load_counts(path, rules.calendar.timezone)
    out = io.StringIO()
    run_backtest(frame, rules, out, progress=False)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def only_rule(rules: RulesFile, name: str) -> RulesFile:
    return rules.model_copy(update={"rules": [r for r in rules.rules if r.name == name]})


def evaluate(rules: RulesFile, directory: Path | None = None) -> list[tuple[str, WindowScore]]:
    """Scores of the default rules, of ``product-surge`` alone and of each peer on the series."""
    directory = directory or data_dir()
    counts = read_counts(directory / "counts.csv")
    labels = read_labels(directory / "labels.json")
    days = series_days(counts)
    results: list[tuple[str, WindowScore]] = []
    alerts = replay_counts(directory / "counts.csv", rules)
    results.append(("Complaint Radar, all rules", score_windows(alerts, labels, days)))
    if any(r.name == "product-surge" for r in rules.rules):
        surge = [a for a in alerts if a["rule"] == "product-surge"]
        results.append(("Complaint Radar, product-surge only", score_windows(surge, labels, days)))
    for name, detector in PEERS.items():
        results.append((name, score_windows(peer_alerts(counts, detector), labels, days)))
    return results


def table(results: list[tuple[str, WindowScore]]) -> str:
    head = ("| detector | windows found | false situations / 1000 series-days | false alerts / "
            "1000 series-days | median min from window start | at or before anomaly point |")  # fmt: skip
    rows = [head, "| --- | --- | --- | --- | --- | --- |"]
    for name, s in results:
        rows.append(
            f"| {name} | {s.found}/{s.windows} | {s.false_situations_per_1000:.0f} "
            f"| {s.false_per_1000:.0f} ({s.false_alerts} of {s.alerts}) "
            f"| {s.median_minutes:.0f} | {s.at_or_before_point}/{s.with_point} |"
        )
    notes = ["median minutes from the anomaly point to the first alert in its window "
             "(negative: before it); per series found/windows, false alerts:"]  # fmt: skip
    for name, s in results:
        series = ", ".join(f"{k} {f}/{w} {n}" for k, (f, w, n) in s.by_series.items())
        notes.append(f"  {name}: {s.median_from_point:+.0f} min; {series}")
    return "\n".join(rows + notes)
