"""Holidays (incl. 调休 and a year beyond the library) and the statistics behind surge."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from alerts.detect.rules.surge import hourly_profile
from alerts.detect.stats import cusum, fit_baseline, nb_upper_p
from config.rules import CalendarConfig, HolidayEntry
from domain.calendar import HOLIDAY, RESTDAY, WORKDAY, HolidayCalendar


def test_spring_festival_and_make_up_workdays_from_the_library():
    cal = HolidayCalendar()
    assert cal.day_type(date(2025, 1, 29)) == HOLIDAY  # 春节 2025
    assert cal.day_type(date(2025, 1, 26)) == WORKDAY  # a Sunday, 调休 make-up workday
    assert cal.day_type(date(2025, 2, 8)) == WORKDAY  # a Saturday, 调休
    assert cal.day_type(date(2025, 2, 9)) == RESTDAY  # an ordinary Sunday
    assert cal.day_type(date(2025, 2, 10)) == WORKDAY


def test_a_year_beyond_the_library_uses_the_configured_table():
    config = CalendarConfig(
        holidays=[
            HolidayEntry(start=date(2027, 2, 6), end=date(2027, 2, 12), name="春节"),
            HolidayEntry(start=date(2027, 2, 13), kind="workday", name="调休"),
        ]
    )
    cal = HolidayCalendar(config)
    assert cal.day_type(date(2027, 2, 8)) == HOLIDAY  # a Monday inside the configured holiday
    assert cal.day_type(date(2027, 2, 13)) == WORKDAY  # a Saturday made a workday
    assert cal.day_type(date(2027, 2, 14)) == RESTDAY  # unconfigured Sunday: weekend rule
    assert cal.day_type(date(2027, 2, 15)) == WORKDAY
    assert HolidayCalendar().day_type(date(2027, 2, 8)) == WORKDAY  # without the table


def test_the_shipped_rules_yaml_configures_the_2027_spring_festival():
    from config.loader import load_file
    from config.rules import RulesFile
    from config.settings import PROJECT_ROOT

    rules, issues = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    assert issues == []
    assert rules is not None
    assert HolidayCalendar(rules.calendar).day_type(date(2027, 2, 8)) == HOLIDAY


def test_holiday_profile_is_used_for_holidays_and_falls_back_when_unseen():
    hourly = np.vstack([np.full(24, 10.0), np.full(24, 4.0), np.full(24, 1.0)])
    profile = hourly_profile(hourly, [WORKDAY, RESTDAY, HOLIDAY])
    assert profile[HOLIDAY].sum() < profile[RESTDAY].sum() < profile[WORKDAY].sum()
    only_workdays = hourly_profile(np.full((5, 24), 10.0), [WORKDAY] * 5)
    assert only_workdays[HOLIDAY].sum() < only_workdays[WORKDAY].sum()


@pytest.mark.parametrize("x,mu,a", [(8, 0.6, 0.25), (30, 12.0, 0.5), (3, 2.0, 1.0)])
def test_nb_tail_matches_scipy_stats(x, mu, a):
    size = 1 / a
    assert nb_upper_p(x, mu, a) == pytest.approx(stats.nbinom.sf(x - 1, size, size / (size + mu)))
    assert nb_upper_p(x, mu, 0.0) == pytest.approx(stats.poisson.sf(x - 1, mu))


def test_baseline_down_weights_a_past_outbreak_and_sees_overdispersion():
    rng = np.random.default_rng(1)
    days = 28
    totals = np.full(days, 1000.0)
    y = rng.poisson(np.outer([0.01, 0.05], totals) * rng.gamma(4, 0.25, size=(2, days)))
    y[0, 10] = 80  # an outbreak day on key 0
    base = fit_baseline(y, totals)
    assert base.shares[0] < 0.013  # the outbreak barely moves the share
    assert base.pooled_dispersion > 0.1  # gamma(4) multipliers: a = 0.25


def test_cusum_accumulates_a_slow_rise_only():
    flat = np.zeros((1, 5))
    rise = np.array([[0.5, 1.5, 2.5, 3.5, 4.5]])
    assert cusum(flat, 0.5)[0] == 0.0
    assert cusum(rise, 0.5)[0] == pytest.approx(10.0)
