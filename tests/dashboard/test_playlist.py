"""The wall's playlist: the view comes from the wall clock alone, and a bad value means no
playlist (with a note), never an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.playlist import (
    MAX_PERIOD,
    MIN_PERIOD,
    VIEWS,
    AlertTally,
    PlaylistChoice,
    alert_tally,
    current_slot,
    indicator,
    parse_period,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, PlaylistChoice(None)),
        ("", PlaylistChoice(None)),
        ("  ", PlaylistChoice(None)),
        ("60", PlaylistChoice(60)),
        (" 10 ", PlaylistChoice(MIN_PERIOD)),
        ("3600", PlaylistChoice(MAX_PERIOD)),
        ("60.0", PlaylistChoice(60)),
        ("9", PlaylistChoice(None, invalid=True)),
        ("0", PlaylistChoice(None, invalid=True)),
        ("-60", PlaylistChoice(None, invalid=True)),
        ("3601", PlaylistChoice(None, invalid=True)),
        ("12.5", PlaylistChoice(None, invalid=True)),
        ("abc", PlaylistChoice(None, invalid=True)),
        ("nan", PlaylistChoice(None, invalid=True)),
        ("inf", PlaylistChoice(None, invalid=True)),
        ("1e9", PlaylistChoice(None, invalid=True)),
        ("60s", PlaylistChoice(None, invalid=True)),
        ("<script>", PlaylistChoice(None, invalid=True)),
    ],
)
def test_parse_period_accepts_whole_seconds_from_10_to_3600_only(value, expected):
    assert parse_period(value) == expected


def test_the_view_is_floor_of_epoch_over_period_modulo_the_views():
    assert VIEWS == ("wall", "alerts", "regions")
    period = 60
    assert current_slot(0, period).index == current_slot(59.999, period).index == 0
    assert [current_slot(s, period).view for s in (0, 60, 120, 180, 240)] == [
        "wall",
        "alerts",
        "regions",
        "wall",
        "alerts",
    ]
    epoch = datetime(2026, 12, 4, 9, 0, 23, tzinfo=UTC).timestamp()
    slot = current_slot(epoch, period)
    assert slot.index == int(epoch // period) % 3
    assert slot.seconds_left == 37  # 23 s into the minute
    # Two TVs a moment apart agree on the view and on the countdown.
    assert current_slot(epoch, period) == current_slot(epoch + 0.4, period)


def test_seconds_left_counts_down_and_never_shows_zero():
    assert [current_slot(s, 10).seconds_left for s in (0, 0.5, 9, 9.99)] == [10, 10, 1, 1]
    assert current_slot(10, 10).index == 1 and current_slot(10, 10).seconds_left == 10


def test_a_slot_needs_a_positive_period_and_some_views():
    with pytest.raises(ValueError):
        current_slot(100, 0)
    with pytest.raises(ValueError):
        current_slot(100, 10, ())
    assert current_slot(100, 10, ("only",)).view == "only"


def test_the_indicator_names_the_view_in_both_languages():
    slot = current_slot(60 + 23, 60)
    assert indicator(slot, "zh") == "▶ 2/3 告警列表 · 下一页 37 秒"
    assert indicator(slot, "en") == "▶ 2/3 Alert list · next in 37 s"
    assert indicator(current_slot(120, 60), "zh").startswith("▶ 3/3 地区排行")


def test_alert_tally_counts_every_open_alert_by_state_and_level():
    alerts = pd.DataFrame(
        {"severity": [1, 1, 3, 4], "state": ["firing", "acknowledged", "pending", "firing"]}
    )
    assert alert_tally(alerts) == AlertTally(4, 3, 1, {1: 2, 2: 0, 3: 1, 4: 1})
    empty = alerts.iloc[0:0]
    assert alert_tally(empty) == AlertTally(0, 0, 0, {1: 0, 2: 0, 3: 0, 4: 0})
