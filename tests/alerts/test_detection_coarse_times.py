"""Exports that stamp complaints with the hour or the day only.

Every complaint of an hour (or a day) then lands in one 5-minute bucket. The surge baseline
must learn that from history instead of expecting a twelfth of the hour there, or each batch
looks like a surge; a real surge in such a stream must still alert.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from alerts.detect.rules.surge import SurgeEvaluator, within_hour_shape
from tests.alerts.detection_helpers import background, complaint, reader_for, replay
from tests.alerts.test_detection_local_level import PRODUCTS, START, shipped


def test_within_hour_shape_is_even_without_history_and_learns_stamped_hours():
    assert np.allclose(within_hour_shape(np.zeros((7, 288))), 1 / 12)
    continuous = np.full((7, 288), 3.0)
    assert np.allclose(within_hour_shape(continuous), 1 / 12)
    stamped = np.zeros((7, 288))
    stamped[:, 12 * 9] = 240.0  # 09:00 every day: the hour's 240 complaints, all in bucket 0
    shape = within_hour_shape(stamped)
    assert shape[9, 0] > 0.98 and shape[9, 1:].sum() < 0.02
    assert np.allclose(shape.sum(axis=1), 1.0)
    assert np.allclose(shape[10], 1 / 12), "an hour without history stays even"


def _stamped(rows: list[dict], unit: str) -> list[dict]:
    """The same complaints with their times cut to the hour, or to the UTC date (08:00 Beijing,
    as exports from systems that keep dates in UTC do)."""
    out = []
    for row in rows:
        at = row["received_at"].replace(minute=0, second=0, microsecond=0)
        if unit == "day":
            at = at.replace(hour=0)
        out.append({**row, "received_at": at})
    return out


@pytest.mark.parametrize("unit", ["hour", "day"])
@pytest.mark.parametrize("name", ["product-surge", "product-category-surge"])
def test_ordinary_days_stamped_coarsely_do_not_alert(unit, name):
    rows = _stamped(background(START, 35, PRODUCTS, seed=8, dispersion=0.2), unit)
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(shipped(name)), reader, START + timedelta(days=14),
                  START + timedelta(days=35), step=timedelta(minutes=20))  # fmt: skip
    assert hits == [], [(at, [f.key for f in fs]) for at, fs in hits[:5]]


@pytest.mark.parametrize("unit", ["hour", "day"])
def test_a_surge_stamped_coarsely_still_alerts(unit):
    rows = background(START, 28, PRODUCTS, seed=3, dispersion=0.2)
    day = START + timedelta(days=27)
    # A 20-a-day product gets 160 more in one morning. Stamped with the day, only the day's
    # total is known, tested against the day-to-day spread: a surge must be that plain.
    rows += [
        complaint(f"s{i}", day + timedelta(hours=10, seconds=40 * i), "P2") for i in range(160)
    ]
    rows = _stamped(rows, unit)
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(shipped("product-surge")), reader, day,
                  day + timedelta(hours=12))  # fmt: skip
    keys = [f.key for _, findings in hits for f in findings]
    assert {"product_code": "P2"} in keys
    assert all(key == {"product_code": "P2"} for key in keys), keys
