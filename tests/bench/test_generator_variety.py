"""The generator's variety settings and new event kinds do what they say (small streams)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TypedDict

import pandas as pd
import pytest

from bench.detection_benchmark import HELD_OUT, SETS, TUNING
from bench.generator import NEW_KINDS, Variety, generate


class Settings(TypedDict):
    """The generator's size arguments, typed so that ``generate(seed, **SMALL)`` is checked."""

    start: date
    days: int
    n_products: int
    per_day: float


SMALL: Settings = {"start": date(2025, 3, 3), "days": 24, "n_products": 60, "per_day": 300.0}


def frame_times(stream) -> pd.Series:
    return pd.to_datetime(stream.complaints["received_at"], format="ISO8601")


def test_without_variety_the_stream_is_the_original_one():
    """The tuning streams must stay what the constants were chosen on: a digest of the
    original generator's stream (before Variety existed) for these settings."""
    stream = generate(5, **SMALL)
    digest = hashlib.sha256(stream.complaints.to_csv(index=False).encode()).hexdigest()
    assert (len(stream.complaints), digest[:16]) == (8019, "18e0984be560f47e")
    assert [e.kind for e in stream.events][:3] == ["slow_rise", "product_surge", "product_surge"]
    assert "busy_hours" not in {e.kind for e in stream.events}


def test_new_kinds_are_labelled_as_the_issue_describes():
    v = Variety(kinds=tuple((kind, 2) for kind in NEW_KINDS))
    stream = generate(7, **SMALL, variety=v)
    by_id = stream.complaints.set_index("id")
    base = stream.complaints.groupby("product_code").size() / SMALL["days"]
    seen = set()
    for e in stream.events:
        seen.add(e.kind)
        rows = by_id.loc[e.complaint_ids]
        hours = (e.end - e.start).total_seconds() / 3600
        if e.kind == "busy_hours":
            assert 26 <= len(rows) <= 34 and 5 <= hours <= 7 and rows.product_code.nunique() == 1
            assert base[rows.product_code.iloc[0]] >= 15  # a busy product
        elif e.kind == "small_burst":
            assert 9 <= len(rows) <= 11 and 4 <= hours <= 6 and rows.product_code.nunique() == 1
        elif e.kind == "tagged_spread":
            assert 30 <= len(rows) <= 40 and 24 <= hours <= 48
            assert rows.event_tag.nunique() == 1 and rows.event_tag.iloc[0]
            assert rows.product_line.nunique() == 1
        elif e.kind == "branch_spread":
            assert 10 <= len(rows) <= 14 and 40 <= hours <= 50
            assert rows.product_code.nunique() == rows.region.nunique() == 1
            assert set(rows.category) == {"销售"}
        elif e.kind == "slow_rise_6d":
            assert hours == 144 and 25 <= len(rows) <= 60 and rows.product_code.nunique() == 1
        elif e.kind == "moderate_surge":
            assert 24 <= hours <= 48 and rows.product_code.nunique() == 1
        times = pd.to_datetime(rows.received_at, format="ISO8601")
        assert (times >= e.start).all() and (times <= e.end).all()
    assert seen == set(NEW_KINDS)


def test_bursts_add_unlabelled_clustered_complaints_on_their_channels():
    plain = generate(9, **SMALL, variety=Variety())
    bursty = generate(9, **SMALL, variety=Variety(burst_channels=("social",), burst_branching=0.6))

    def share(s) -> float:
        return float((s.complaints.channel == "social").mean())

    assert share(bursty) > 1.5 * share(plain)

    def clustered(s) -> float:  # share of social complaints following one of theirs within 30 min
        social = s.complaints[s.complaints.channel == "social"].assign(t=frame_times(s))
        social = social.sort_values(["product_code", "t"])
        gap = social.groupby("product_code")["t"].diff()
        return float((gap < pd.Timedelta(minutes=30)).mean())

    assert clustered(bursty) > clustered(plain) + 0.15
    labelled = {cid for e in bursty.events for cid in e.complaint_ids}
    assert len(labelled) < 0.2 * len(bursty.complaints)  # the bursts are not labelled


def test_stamped_sources_and_products():
    v = Variety(hour_stamped_share=0.2, date_stamped_channels=("counter",))
    stream = generate(4, **SMALL, variety=v)
    times = frame_times(stream)
    counter = stream.complaints.channel == "counter"
    assert (
        counter.any()
        and (times[counter].dt.hour == 0).all()
        and (times[counter].dt.minute == 0).all()
    )
    on_hour = (times.dt.minute == 0) & (times.dt.second == 0) & ~counter
    hourly_products = stream.complaints.loc[on_hour, "product_code"].value_counts()
    assert 0.1 * 60 <= (hourly_products > 5).sum() <= 0.3 * 60


def test_lognormal_tails_and_profiles_change_the_stream():
    a = generate(3, **SMALL)
    b = generate(3, **SMALL, variety=Variety(day_tail="lognormal", tail_sigma=1.0,
                                             hour_profiles=("evening",)))  # fmt: skip

    def evening(s) -> float:
        return float((frame_times(s).dt.hour >= 19).mean())

    def spread(s) -> float:  # day-to-day variation of the busiest products' counts
        daily = s.complaints.groupby([s.complaints.product_code, frame_times(s).dt.date]).size()
        busiest = daily.groupby(level=0).sum().nlargest(10).index
        per = daily.loc[busiest].groupby(level=0)
        return float((per.std() / per.mean()).median())

    assert evening(b) > evening(a) + 0.1
    assert spread(b) > 1.5 * spread(a)


def test_tuning_and_held_out_sets_are_disjoint():
    assert not {s.seed for s in TUNING} & {s.seed for s in HELD_OUT}
    assert not {s.variety for s in TUNING} & {s.variety for s in HELD_OUT}
    assert set(SETS) == {"tuning", "held-out"}
    assert [s.seed for s in TUNING[:4]] == [11, 12, 13, 14] and TUNING[0].variety is None


@pytest.mark.parametrize("scenario", HELD_OUT[:1])
def test_a_held_out_stream_generates_with_every_event_labelled(scenario):
    stream = generate(scenario.seed, scenario.start, 30, per_day=scenario.per_day,
                      dispersion=scenario.dispersion, variety=scenario.variety)  # fmt: skip
    ids = set(stream.complaints.id)
    assert stream.events and all(
        e.complaint_ids and set(e.complaint_ids) <= ids for e in stream.events
    )
