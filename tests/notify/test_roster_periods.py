"""Roster checks reach every configured holiday period and the whole next Spring Festival, not
only the next 30 days: a hole in the 2027 Spring Festival nights is reported in December 2026."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
import yaml

from alerts.notify.commands import roster_findings
from alerts.notify.roster_periods import LUNAR_NEW_YEAR, check_periods, spring_festival
from config.rules import CalendarConfig
from tests.notify.conftest import make_config
from tests.notify.test_roster import at

HOLE_IN_FESTIVAL_NIGHTS = """
people:
  - {id: day-a, name: 白甲}
  - {id: night-a, name: 夜甲}
  - {id: usual, name: 平日值班}
shifts:
  - {who: usual, start: 2026-01-01, end: 2027-02-04, from_time: "08:00", to_time: "08:00"}
  - {who: usual, start: 2027-02-13, from_time: "08:00", to_time: "08:00"}
  - {who: day-a, start: 2027-02-05, end: 2027-02-12, from_time: "08:00", to_time: "20:00"}
  # the night rotation was written only up to 初五 (02-10): 02-11 and 02-12 nights are empty
  - {who: night-a, start: 2027-02-05, end: 2027-02-10, from_time: "20:00", to_time: "08:00"}
  - {role: manager, who: usual, start: 2026-01-01}
  - {role: head, who: usual, start: 2026-01-01}
default_receiver: usual
"""


def test_a_hole_in_the_spring_festival_nights_is_reported_in_december():
    config = make_config(roster=yaml.safe_load(HOLE_IN_FESTIVAL_NIGHTS))
    errors, warnings = roster_findings(config, at("2026-12-03T10:00"))
    assert errors == []
    assert warnings == [
        "roster.yaml: 值班人 空缺 2027-02-11 20:00 – 2027-02-12 08:00（2027 春节）",
        "roster.yaml: 值班人 空缺 2027-02-12 20:00 – 2027-02-13 08:00（2027 春节）",
    ]


def test_every_configured_holiday_period_ahead_is_checked():
    roster = yaml.safe_load(HOLE_IN_FESTIVAL_NIGHTS)
    roster["shifts"][1]["end"] = "2027-04-30"  # nobody from May Day on
    rules = {"calendar": {"holidays": [
        {"start": "2026-10-01", "end": "2026-10-07", "name": "国庆节"},  # over: not checked
        {"start": "2027-05-01", "end": "2027-05-05", "name": "劳动节"},
    ]}}  # fmt: skip
    config = make_config(roster=roster, rules=rules)
    _, warnings = roster_findings(config, at("2026-12-03T10:00"))
    assert "roster.yaml: 值班人 空缺 2027-05-01 08:00 – 2027-05-06 12:00（劳动节）" in warnings
    assert not any("国庆节" in w for w in warnings)


def test_the_whole_next_spring_festival_even_inside_it_and_stretched_by_configuration():
    periods = check_periods(CalendarConfig(), at("2026-12-03T10:00"))
    [festival] = [p for p in periods if "春节" in p.name]
    assert (festival.start, festival.end) == (at("2027-02-05T00:00"), at("2027-02-13T12:00"))
    inside = check_periods(CalendarConfig(), at("2027-02-08T10:00"))
    assert [p.start for p in inside if "春节" in p.name] == [at("2027-02-08T10:00")]
    longer = CalendarConfig.model_validate(
        {"holidays": [{"start": "2027-02-04", "end": "2027-02-14", "name": "春节"}]}
    )
    [festival] = [p for p in check_periods(longer, at("2026-12-03T10:00")) if "2027 春节" in p.name]
    assert (festival.start, festival.end) == (at("2027-02-04T00:00"), at("2027-02-15T12:00"))
    after = check_periods(CalendarConfig(), at("2027-03-01T10:00"))
    assert [p.name for p in after if "春节" in p.name] == ["2028 春节"]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_lunar_new_year_table_agrees_with_chinesecalendar(year):
    first = LUNAR_NEW_YEAR[year]
    assert chinese_calendar.get_holiday_detail(first) == (True, "Spring Festival")
    assert spring_festival(year) == (date.fromordinal(first.toordinal() - 1),
                                     date.fromordinal(first.toordinal() + 6))  # fmt: skip
