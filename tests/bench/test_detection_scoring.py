"""Scoring of the detection bench: hand-built alerts, series and events with known answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.peers import fixed_threshold, peer_alerts, rising_edges, same_hour_z, trailing_sum
from bench.realdata import read_labels, series_days
from bench.scoring import SeriesLabels, combine, score, score_windows

T0 = datetime(2015, 3, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def alert(series: str, hours: float, situation: int | None = None, rule: str = "r") -> dict:
    line: dict[str, Any] = {"rule": rule, "key": {"product_code": series}, "fired_at": at(hours).isoformat(),
            "complaint_ids": []}  # fmt: skip
    if situation is not None:
        line["situation"] = situation
    return line


LABELS = {
    "A": SeriesLabels(
        windows=((at(10), at(20)), (at(50), at(60))), anomaly_points=(at(15), at(55))
    ),
    "B": SeriesLabels(windows=((at(30), at(40)),), anomaly_points=(at(35),)),
}


def test_windows_found_minutes_and_anomaly_point():
    alerts = [alert("A", 12), alert("A", 18), alert("A", 56), alert("B", 29.9)]
    s = score_windows(alerts, LABELS, series_days=10)
    assert (s.windows, s.found) == (3, 2)  # B's alert came before its window
    assert s.minutes == [120.0, 360.0]  # first alert in each found window
    assert (s.at_or_before_point, s.with_point) == (1, 3)  # A's 2nd window: 56 h > point 55 h
    assert s.false_alerts == 1 and s.alerts == 4
    assert s.from_point == [-180.0, 60.0] and s.median_from_point == pytest.approx(-60.0)
    assert s.by_series == {"A": (2, 2, 0), "B": (0, 1, 1)}


def test_an_alert_of_another_series_window_is_false():
    s = score_windows([alert("B", 12), alert("C", 12)], LABELS, series_days=2)
    assert s.found == 0 and s.false_alerts == 2 and s.false_situations == 2
    assert s.false_per_1000 == pytest.approx(1000.0)


def test_false_alerts_less_than_an_hour_apart_are_one_situation_per_series():
    alerts = [alert("A", 1), alert("A", 1.5), alert("A", 2.4),  # chained: one
              alert("A", 3.5),  # 1.1 h after the last: a new one
              alert("B", 1.2)]  # another series: its own  # fmt: skip
    s = score_windows(alerts, LABELS, series_days=5)
    assert s.false_alerts == 5 and s.false_situations == 3
    assert s.false_situations_per_1000 == pytest.approx(600.0)


def test_false_alerts_sharing_a_situation_id_are_one():
    alerts = [alert("A", 1, situation=7), alert("A", 5, situation=7), alert("B", 3, situation=7),
              alert("A", 8, situation=8)]  # fmt: skip
    assert score_windows(alerts, LABELS, series_days=1).false_situations == 2


def test_no_alerts_scores_nothing_found():
    s = score_windows([], LABELS, series_days=3)
    assert s.found == 0 and s.false_alerts == 0 and np.isnan(s.median_minutes)


def test_trailing_sum_and_rising_edges():
    assert np.isnan(trailing_sum(np.ones(3), 4)).all()
    assert trailing_sum(np.arange(6.0), 3)[2:].tolist() == [3, 6, 9, 12]
    assert rising_edges(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [1, 4, 7]


def test_fixed_threshold_fires_once_per_crossing():
    rng = np.random.default_rng(1)
    counts = rng.poisson(5, 2000).astype(float)
    counts[1500:1520] += 40  # one long burst: one alert
    counts[1800:1803] += 60
    fired = fixed_threshold(counts)
    assert len(fired) == 2
    assert 1500 <= fired[0] < 1510 and 1800 <= fired[1] < 1805


def test_same_hour_needs_seven_days_and_fires_on_a_surge():
    day = np.tile(np.r_[np.full(144, 1.0), np.full(144, 6.0)], 9)  # quiet nights, busy days
    rng = np.random.default_rng(2)
    counts = day + rng.poisson(1, len(day))
    assert same_hour_z(counts[: 7 * 288]) == []
    counts[8 * 288 + 50 : 8 * 288 + 60] += 30  # at night on day 9
    fired = same_hour_z(counts)
    assert fired and all(f >= 7 * 288 for f in fired)
    assert any(8 * 288 + 50 <= f < 8 * 288 + 62 for f in fired)


def test_peer_alerts_fill_gaps_and_stamp_the_interval_end():
    starts = pd.date_range(T0, periods=400, freq="5min")
    rng = np.random.default_rng(3)
    counts = pd.DataFrame(
        {"interval_start": starts, "product_code": "A", "count": rng.poisson(3, 400)}
    )
    counts.loc[300:305, "count"] = 50
    counts = counts.drop(index=range(100, 110))  # a gap: read as zero counts
    lines = peer_alerts(counts, fixed_threshold)
    assert [line["fired_at"] for line in lines] == [
        (starts[300] + timedelta(minutes=5)).isoformat()
    ]
    assert lines[0]["key"] == {"product_code": "A"}


def test_series_days_and_labels(tmp_path):
    starts = pd.date_range(T0, periods=288, freq="5min")
    counts = pd.DataFrame(
        {"interval_start": list(starts) * 2, "product_code": ["A"] * 288 + ["B"] * 288}
    )
    assert series_days(counts) == pytest.approx(2.0)
    path = tmp_path / "labels.json"
    path.write_text('{"series": {"A": {"windows": [["2015-03-01T10:00:00+00:00", '
                    '"2015-03-01T20:00:00+00:00"]], "anomaly_points": ["2015-03-01T15:00:00+00:00"]}}}')  # fmt: skip
    assert read_labels(path)["A"] == SeriesLabels(((at(10), at(20)),), (at(15),))


@dataclass
class Ev:
    id: str
    kind: str
    start: datetime
    end: datetime
    complaint_ids: list[str] = field(default_factory=list)


def test_synthetic_score_situations_seen_and_kinds():
    events = [Ev("e1", "busy", at(0), at(6), ["a", "b", "c", "d"]),
              Ev("e2", "small", at(10), at(15), ["x", "y"])]  # fmt: skip
    received = {"a": at(0.5), "b": at(1), "c": at(2), "d": at(5), "x": at(11), "y": at(12)}
    alerts: list[dict[str, Any]] = [
        {"rule": "p", "fired_at": at(1.5).isoformat(), "complaint_ids": ["a", "b", "n1"], "situation": 1},
        {"rule": "q", "fired_at": at(1.5).isoformat(), "complaint_ids": ["n1", "n2", "n3", "n4"], "situation": 1},
        {"rule": "q", "fired_at": at(30).isoformat(), "complaint_ids": ["n5"], "situation": 2},
        {"rule": "q", "fired_at": at(31).isoformat(), "complaint_ids": ["n6"]},
    ]  # fmt: skip
    s = score(alerts, events, product_days=100, received=received)
    assert (s.detected, s.false_alerts, s.false_situations) == (1, 3, 3)
    assert s.seen == [2] and s.ttd_minutes == [90.0]
    assert s.kinds["busy"].detected == 1 and s.kinds["small"].detected == 0
    total = combine([s, s])
    assert total.false_situations == 6 and total.kinds["small"].events == 2
    assert total.median_seen == 2 and total.false_situations_per_1000 == pytest.approx(30.0)


def test_real_data_figure_on_a_small_directory(tmp_path, monkeypatch):
    """RADAR_REALDATA_DIR names the data; the rules replay its counts and every peer is scored."""
    from bench.realdata import data_dir, evaluate, table
    from config.rules import RulesFile

    rng = np.random.default_rng(4)
    starts = pd.date_range(T0, periods=288 * 9, freq="5min")
    counts = pd.DataFrame({"interval_start": [s.isoformat() for s in starts], "product_code": "S",
                           "count": rng.poisson(4, len(starts))})  # fmt: skip
    counts.loc[288 * 8 : 288 * 8 + 24, "count"] += 40  # two hours of ten times the usual
    counts.to_csv(tmp_path / "counts.csv", index=False)
    window = [starts[288 * 8 - 12].isoformat(), starts[288 * 8 + 60].isoformat()]
    (tmp_path / "labels.json").write_text(
        f'{{"series": {{"S": {{"windows": [["{window[0]}", "{window[1]}"]], '
        f'"anomaly_points": ["{starts[288 * 8 + 12].isoformat()}"]}}}}}}'
    )
    monkeypatch.setenv("RADAR_REALDATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    rules = RulesFile.model_validate({"rules": [
        {"name": "fixed", "kind": "threshold", "group_by": ["product_code"],
         "window_minutes": 60, "threshold": 300}]})  # fmt: skip
    results = dict(evaluate(rules))
    ours = results["Complaint Radar, all rules"]
    assert (ours.windows, ours.found, ours.false_alerts) == (1, 1, 0)
    assert ours.series_days == pytest.approx(9.0)
    assert ours.at_or_before_point == 1
    assert all(s.found == 1 for s in results.values())
    assert "| Complaint Radar, all rules | 1/1 | 0 |" in table(list(results.items()))
