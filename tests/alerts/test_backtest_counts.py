"""``backtest --counts``: a count file replays like the complaints it stands for, unexpanded."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from alerts.backtest.io import BacktestInputError, load_counts
from alerts.backtest.replay import run_backtest
from alerts.detect.memory_reader import MemoryReader
from config.loader import load_file
from config.rules import RulesFile
from config.settings import PROJECT_ROOT

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def count_rows(days: int = 10, seed: int = 3) -> pd.DataFrame:
    """Two products' 5-minute counts with a daily cycle, and a surge of P1 on the last day."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(days * 288):
        start = T0 + timedelta(minutes=5 * i)
        hour = start.hour
        for product, rate in (("P1", 0.6), ("P2", 1.5)):
            lam = rate * (1.5 if 1 <= hour <= 10 else 0.3)
            if product == "P1" and i // 288 == days - 1 and 120 <= i % 288 < 132:
                lam += 6  # an hour of six extra complaints every five minutes
            n = int(rng.poisson(lam))
            rows.append({"interval_start": start.isoformat(), "product_code": product,
                         "channel": "social", "count": n})  # fmt: skip
    return pd.DataFrame(rows)


def expanded(counts: pd.DataFrame, interval: timedelta = timedelta(minutes=5)) -> pd.DataFrame:
    """The same counts as one complaint row each, at the moment load_counts stamps them."""
    rows = []
    for n, row in enumerate(counts.to_dict("records")):
        at = datetime.fromisoformat(row["interval_start"]) + interval - timedelta(seconds=1)
        for k in range(int(row["count"])):
            rows.append({"id": f"r{n}-{k}", "received_at": at, "channel": row["channel"],
                         "product_code": row["product_code"], "product_name": "",
                         "product_line": "", "region": "", "category": "", "event_tag": "",
                         "text": ""})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    frame["source"] = "backtest"
    return frame


def test_load_counts_stamps_interval_end_and_reports_bad_rows(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(
        "interval_start,product_name,count\n"
        "2026-03-02T08:00:00+08:00,安心车险,3\n"
        "2026-03-02T08:05:00+08:00,安心车险,0\n"
        "2026-03-02T08:10:00+08:00,安心车险,-2\n"
        "2026-03-02T08:15:00+08:00,安心车险,1.5\n"
        "not-a-time,安心车险,4\n"
        "2026-03-02T08:20:00+08:00,安心车险,x\n"
        "2026-03-02T08:25:00,安心车险,2\n",
        encoding="utf-8",
    )
    frame, report = load_counts(path, "Asia/Shanghai", timedelta(minutes=5))
    assert frame["weight"].tolist() == [3, 2]  # the zero row carries nothing
    assert frame["product_code"].tolist() == ["安心车险", "安心车险"]
    first = frame["received_at"].iloc[0]
    assert first == pd.Timestamp("2026-03-02T08:04:59+08:00")  # known once the interval closed
    assert report.bad_counts == 3 and report.bad_dates == 1 and report.skipped == 4
    assert report.naive_dates == 1 and report.weight == 5
    assert any("bad count '-2'" in line for line in report.examples)


def test_load_counts_refuses_a_file_without_counts(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("interval_start,product_code\n2026-03-02T08:00:00+08:00,P1\n")
    with pytest.raises(BacktestInputError, match="count"):
        load_counts(path)


def test_weighted_reader_answers_as_the_expanded_complaints_do(tmp_path):
    counts = count_rows(days=3)
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    weighted = MemoryReader(load_counts(path)[0])
    plain = MemoryReader(expanded(counts))
    for hours in range(1, 72, 5):
        now = T0 + timedelta(hours=hours, minutes=7)
        weighted.advance(now)
        plain.advance(now)
        for window in (30, 360):
            since = now - timedelta(minutes=window)
            for dims in (["product_code"], ["channel", "product_code"], []):
                assert weighted.window_counts(dims, since, now, None, 3) == plain.window_counts(
                    dims, since, now, None, 3
                )
            keys = [("P1",), ("P2",), ("P9",)]
            assert weighted.counts_of_keys(["product_code"], since, now, keys) == (
                plain.counts_of_keys(["product_code"], since, now, keys)
            )
        since = now - timedelta(days=1)
        k1, s1 = weighted.series(["product_code"], since, now, 60)
        k2, s2 = plain.series(["product_code"], since, now, 60)
        assert k1 == k2 and np.array_equal(s1, s2)
    assert weighted.complaint_refs({"product_code": "P1"}, T0, now) == []


def test_counts_replay_fires_as_the_complaints_do(tmp_path):
    counts = count_rows(days=10)
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    rules, _ = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    assert rules is not None
    outs = []
    for frame in (load_counts(path)[0], expanded(counts)):
        out = io.StringIO()
        run_backtest(frame, rules, out, progress=False)
        outs.append([json.loads(line) for line in out.getvalue().splitlines()])
    from_counts, from_complaints = outs
    assert from_counts, "the hour of extra complaints on the last day must alert"
    strip = [{k: v for k, v in a.items() if k != "complaint_ids"} for a in from_complaints]
    assert [{k: v for k, v in a.items() if k != "complaint_ids"} for a in from_counts] == strip
    assert all(a["complaint_ids"] == [] for a in from_counts)
    assert all(a["since"] and a["until"] and a["count"] for a in from_counts)
    fired = datetime.fromisoformat(from_counts[0]["fired_at"])
    assert T0 + timedelta(days=9, hours=10) <= fired <= T0 + timedelta(days=9, hours=11)


def test_cli_counts_end_to_end(tmp_path):
    counts = count_rows(days=10)
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    out = tmp_path / "alerts.jsonl"
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest", "--counts", str(path),
         "--out", str(out), "--interval", "5m"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{len(counts)} rows" in result.stdout and "complaints)" in result.stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines and lines[0]["key"]["product_code"] == "P1"
    bad = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest", "--counts",
         str(tmp_path / "missing.csv"), "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 1 and "file not found" in bad.stderr


def test_cli_takes_complaints_or_counts_not_both(tmp_path):
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest", "--counts", "a.csv",
         "--complaints", "b.csv", "--out", str(tmp_path / "o.jsonl")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_a_zone_with_daylight_saving_keeps_every_rule_running(tmp_path):
    # America/New_York springs forward on 2026-03-08: a local day is then 23 hours, and a
    # history counted back in local days no longer fit the detector's 24-hour day grid (every
    # surge rule failed from that day on).
    counts = count_rows(days=10)
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    text = (PROJECT_ROOT / "config" / "rules.yaml").read_text(encoding="utf-8")
    assert "timezone: Asia/Shanghai" in text
    zoned = tmp_path / "rules.yaml"
    zoned.write_text(text.replace("Asia/Shanghai", "America/New_York"), encoding="utf-8")
    rules, _ = load_file(zoned, RulesFile)
    assert rules is not None
    out = io.StringIO()
    summary = run_backtest(load_counts(path, "America/New_York")[0], rules, out, progress=False)
    assert summary.failed_rules == {}
    fired = [
        datetime.fromisoformat(json.loads(line)["fired_at"]) for line in out.getvalue().splitlines()
    ]
    assert any(
        T0 + timedelta(days=9, hours=10) <= f <= T0 + timedelta(days=9, hours=11) for f in fired
    )
