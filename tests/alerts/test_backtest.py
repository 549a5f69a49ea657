"""The backtest: the fixed CLI interface end to end, bad input, and no look-ahead."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from alerts.backtest.io import load_complaints
from alerts.backtest.replay import clock_ticks, parse_tick, run_backtest
from config.rules import RulesFile
from config.settings import PROJECT_ROOT
from tests.alerts.detection_helpers import COLUMNS, complaint

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
RULES = RulesFile.model_validate(
    {
        "rules": [
            {
                "name": "fixed",
                "kind": "threshold",
                "window_minutes": 60,
                "threshold": 5,
                "resolve_after_minutes": 30,
            }
        ]
    }
)


def write_csv(path: Path, rows: list[dict], extra_bad: Sequence[str] = ()) -> Path:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = [
        r.isoformat() if isinstance(r, datetime) else r for r in frame["received_at"]
    ]
    frame["ignored_extra"] = "x"
    text = frame.to_csv(index=False)
    path.write_text(text + "".join(line + "\n" for line in extra_bad), encoding="utf-8")
    return path


def burst(prefix: str, start: datetime, n: int, product: str = "P1") -> list[dict]:
    return [complaint(f"{prefix}{i}", start + timedelta(minutes=3 * i), product) for i in range(n)]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest", *args],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)  # fmt: skip


def test_cli_end_to_end_writes_one_line_per_firing(tmp_path):
    rows = burst("a", T0, 6) + burst("b", T0 + timedelta(hours=5), 7) + burst("c", T0, 2, "P2")
    csv = write_csv(tmp_path / "in.csv", rows, ["bad1,not-a-date,hotline,P1,P1,寿险,广东,理赔,,x"])
    rules = tmp_path / "rules.yaml"
    rules.write_text(json.dumps(RULES.model_dump(mode="json")), encoding="utf-8")
    out = tmp_path / "alerts.jsonl"
    result = run_cli(
        "--complaints", str(csv), "--out", str(out), "--rules", str(rules), "--tick", "5m"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2  # two separate surges, resolved in between: two firings
    first, second = lines
    assert first["rule"] == "fixed" and first["key"] == {"product_code": "P1"}
    assert set(first) >= {
        "rule",
        "key",
        "severity",
        "fired_at",
        "count",
        "expected",
        "score",
        "complaint_ids",
    }
    # fired at the first tick with 5 in the window (01:15), seeing a5 received exactly at 01:15
    assert first["complaint_ids"] == [f"a{i}" for i in range(6)]
    fired = datetime.fromisoformat(first["fired_at"])
    assert fired.utcoffset() == timedelta(hours=8)
    assert fired == datetime(2026, 3, 2, 1, 15, tzinfo=UTC)  # 5th complaint at 01:12, tick 01:15
    assert second["complaint_ids"][0] == "b0"
    assert "1 skipped" in result.stdout and "bad received_at" in result.stdout


def test_cli_reports_missing_columns_clearly(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "id,received_at,channel\n1,2026-03-02T09:00:00+08:00,hotline\n", encoding="utf-8"
    )
    result = run_cli("--complaints", str(csv), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 1
    assert "missing column" in result.stderr and "product_code" in result.stderr


def test_products_named_without_codes_are_keyed_by_name(tmp_path):
    rows = burst("a", T0, 6, "安心车险") + burst("b", T0, 2, "畅行意外")
    for row in rows:
        row["product_code"] = ""  # product_name stays: complaint() sets it to the product
    rows.append({**complaint("c0", T0, "P9"), "product_code": "", "product_name": ""})
    csv = write_csv(tmp_path / "in.csv", rows)
    rules = tmp_path / "rules.yaml"
    rules.write_text(json.dumps(RULES.model_dump(mode="json")), encoding="utf-8")
    out = tmp_path / "alerts.jsonl"
    result = run_cli("--complaints", str(csv), "--out", str(out), "--rules", str(rules))
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert line["key"] == {"product_code": "安心车险"}
    assert line["complaint_ids"] == [f"a{i}" for i in range(6)]
    assert "8 rows without product_code keyed by product_name" in result.stdout


def test_default_rules_run_on_a_small_stream(tmp_path):
    rows = burst("a", T0, 30)
    csv = write_csv(tmp_path / "in.csv", rows)
    result = run_cli("--complaints", str(csv), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 0, result.stderr


def test_no_look_ahead_alerts_identical_when_the_future_is_cut_off(tmp_path):
    """Replaying a prefix of the stream gives exactly the alerts fired within that prefix."""
    rows = (
        burst("a", T0, 6)
        + burst("b", T0 + timedelta(hours=3), 8)
        + burst("c", T0 + timedelta(hours=3, minutes=20), 40)
    )
    full_csv = write_csv(tmp_path / "full.csv", rows)
    cut = T0 + timedelta(hours=3, minutes=12)  # mid-way through burst b
    prefix_csv = write_csv(tmp_path / "prefix.csv", [r for r in rows if r["received_at"] <= cut])

    def alerts(path: Path) -> list[dict]:
        frame, _ = load_complaints(path)
        out = io.StringIO()
        run_backtest(frame, RULES, out, progress=False)
        return [json.loads(line) for line in out.getvalue().splitlines()]

    full = alerts(full_csv)
    prefix = alerts(prefix_csv)
    before_cut = [a for a in full if datetime.fromisoformat(a["fired_at"]) <= cut]
    assert before_cut == prefix[: len(before_cut)] and before_cut
    # the alert firing during burst b shows no complaint from after its clock
    for alert in full:
        fired = datetime.fromisoformat(alert["fired_at"])
        times = {r["id"]: r["received_at"] for r in rows}
        assert all(times[cid] <= fired for cid in alert["complaint_ids"])


def test_tick_parsing_and_clock():
    assert parse_tick("5m") == timedelta(minutes=5) and parse_tick("1h") == timedelta(hours=1)
    assert parse_tick("90s") == timedelta(seconds=90) and parse_tick("10") == timedelta(minutes=10)
    assert parse_tick("1d") == timedelta(days=1)
    ticks = clock_ticks(T0 + timedelta(minutes=2), T0 + timedelta(minutes=14), timedelta(minutes=5))
    assert ticks[0] == T0 + timedelta(minutes=5) and ticks[-1] == T0 + timedelta(minutes=15)


def test_received_at_parsed_in_bulk_equals_one_by_one():
    from zoneinfo import ZoneInfo

    from alerts.backtest.io import LoadReport, parse_moment, parse_received_at

    local = ZoneInfo("Asia/Shanghai")
    usual = ["2026-01-16T00:02:01+08:00", "2026-03-01T23:59:59.123456Z",
             "2025-12-31T16:00:00.5-05:30", "2026-02-28T10:00:00+00:00"]  # fmt: skip
    odd = [" 2026-01-16T00:02:01+08:00", "2026-01-16 08:00:00", "2026-01-16T08:00:00",
           "yesterday", "", "2026-01-16T08:00:00+0800", "２０２６-01-16T08:00:00+08:00"]  # fmt: skip
    for values in (usual + odd, [*usual, "2026-02-30T10:00:00+08:00", *odd]):
        report = LoadReport()
        parsed = parse_received_at(pd.Series(values), local, report)
        expected, naive, bad = [], 0, 0
        for value in values:
            moment, was_naive = parse_moment(value, local)
            naive += was_naive
            bad += moment is None
            expected.append(pd.Timestamp(moment).tz_convert("UTC") if moment else pd.NaT)
        assert parsed.dtype == "datetime64[ns, UTC]"
        assert parsed.tolist() == pd.Series(expected, dtype="datetime64[ns, UTC]").tolist()
        assert (report.naive_dates, report.bad_dates) == (naive, bad)
        assert len(report.examples) == bad and all("bad received_at" in e for e in report.examples)
