"""The duty roster: rotations, overnight shifts, overrides, escalation chain and gaps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from alerts.notify.commands import parse_when, roster_findings, who_is_on_call
from alerts.notify.roster import on_call, receiver_for, roster_gaps
from config.models import Person, RosterFile
from config.settings import PROJECT_ROOT
from tests.notify.conftest import make_config

SHANGHAI = ZoneInfo("Asia/Shanghai")

SPRING_FESTIVAL = """
people:
  - {id: day-a, name: 白甲, phone: "13000000001"}
  - {id: day-b, name: 白乙, phone: "13000000002"}
  - {id: night-a, name: 夜甲, phone: "13000000003"}
  - {id: night-b, name: 夜乙, phone: "13000000004"}
  - {id: boss-1, name: 经理一}
  - {id: boss-2, name: 经理二}
  - {id: usual, name: 平日值班}
teams:
  - {id: nights, members: [night-a, night-b]}
shifts:
  - {who: usual, start: 2026-01-01}
  # 2027 Spring Festival: 除夕 02-05 … 初七 02-12
  - {rotate: [day-a, day-b], start: 2027-02-05, end: 2027-02-12, from_time: "08:00", to_time: "20:00"}
  - {rotate: nights, start: 2027-02-05, end: 2027-02-12, from_time: "20:00", to_time: "08:00"}
  - {role: manager, rotate: [boss-1, boss-2], start: 2027-02-05, end: 2027-02-12}
"""


def id_of(person: Person | None) -> str | None:
    """The person's id, or None for a gap: a gap where a person is expected fails the comparison."""
    return person.id if person is not None else None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def spring() -> RosterFile:
    return RosterFile.model_validate(yaml.safe_load(SPRING_FESTIVAL))


def test_half_past_midnight_on_chuyi_is_the_night_shift_that_began_on_chuxi(spring):
    # 初一 2027 is 2027-02-06; 00:30 belongs to the 除夕 (02-05) night shift, first in rotation.
    assert id_of(on_call(spring, at("2027-02-06T00:30"), SHANGHAI)) == "night-a"
    assert (
        id_of(on_call(spring, at("2027-02-06T00:30"), SHANGHAI, "manager")) == "boss-2"
    )  # 初一 = day 2
    assert id_of(on_call(spring, at("2027-02-06T20:30"), SHANGHAI)) == "night-b"
    assert id_of(on_call(spring, at("2027-02-06T09:00"), SHANGHAI)) == "day-b"


def test_after_the_holiday_the_normal_roster_returns(spring):
    assert (
        id_of(on_call(spring, at("2027-02-13T07:59"), SHANGHAI)) == "night-b"
    )  # 初七 night, ends 02-13 08:00
    assert id_of(on_call(spring, at("2027-02-13T08:00"), SHANGHAI)) == "usual"
    assert id_of(on_call(spring, at("2027-02-04T12:00"), SHANGHAI)) == "usual"


def test_shipped_roster_has_the_spring_festival_and_no_gap_for_30_days():
    config = make_config(roster=yaml.safe_load((PROJECT_ROOT / "config/roster.yaml").read_text()))
    assert id_of(on_call(config.roster, at("2027-02-06T00:30"), SHANGHAI)) == "li-na"
    errors, warnings = roster_findings(config, at("2026-11-23T10:00"))
    assert errors == [] and warnings == []


def test_override_beats_shifts_for_its_hours_only():
    roster = RosterFile.model_validate(
        {
            "people": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            "shifts": [{"who": "a", "start": "2026-01-01"}],
            "overrides": [{"who": "b", "start": "2026-12-01T09:00", "end": "2026-12-01T13:00"}],
        }
    )
    assert id_of(on_call(roster, at("2026-12-01T08:59"), SHANGHAI)) == "a"
    assert id_of(on_call(roster, at("2026-12-01T09:00"), SHANGHAI)) == "b"
    assert id_of(on_call(roster, at("2026-12-01T13:00"), SHANGHAI)) == "a"


def test_shift_hours_are_local_in_the_configured_time_zone():
    roster = RosterFile.model_validate(
        {
            "people": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
            "shifts": [
                {"who": "a", "start": "2026-01-01", "from_time": "08:00", "to_time": "20:00"},
                {"who": "b", "start": "2026-01-01", "from_time": "20:00", "to_time": "08:00"},
            ],
        }
    )
    nine_in_london = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))  # 17:00 here
    assert id_of(on_call(roster, nine_in_london, SHANGHAI)) == "a"
    assert id_of(on_call(roster, nine_in_london.replace(hour=13), SHANGHAI)) == "b"
    assert id_of(on_call(roster, nine_in_london.replace(hour=13), ZoneInfo("Europe/London"))) == "a"


def test_gaps_are_found_merged_and_reported():
    roster = RosterFile.model_validate(
        {
            "people": [{"id": "a", "name": "甲"}],
            "shifts": [
                {"who": "a", "start": "2026-12-01", "end": "2026-12-02", "from_time": "08:00",
                 "to_time": "20:00"},
            ],
        }
    )  # fmt: skip
    gaps = roster_gaps(roster, at("2026-12-01T00:00"), at("2026-12-03T00:00"), SHANGHAI)
    assert gaps == [
        (at("2026-12-01T00:00"), at("2026-12-01T08:00")),
        (at("2026-12-01T20:00"), at("2026-12-02T08:00")),
        (at("2026-12-02T20:00"), at("2026-12-03T00:00")),
    ]
    config = make_config(roster=roster.model_dump(mode="json"))
    errors, _ = roster_findings(config, at("2026-12-01T00:00"))
    assert errors and "default_receiver" in errors[0]  # nobody would be told: an error
    covered = make_config(roster={**roster.model_dump(mode="json"), "default_receiver": "a"})
    errors, warnings = roster_findings(covered, at("2026-12-01T00:00"))
    assert errors == [] and any("值班人 空缺" in w for w in warnings)


def test_escalation_chain_and_default_receiver_on_gaps():
    config = make_config()
    now = at("2026-11-23T10:00")
    assert [id_of(receiver_for(config.roster, now, SHANGHAI, n)[0]) for n in range(3)] == [
        "oncall-a", "manager-b", "head-c",
    ]  # fmt: skip
    empty = RosterFile.model_validate(
        {"people": [{"id": "d", "name": "默认"}], "default_receiver": "d"}
    )
    assert (
        id_of(receiver_for(empty, now, SHANGHAI, 0)[0]) == "d"
        and receiver_for(empty, now, SHANGHAI, 0)[1]
    )
    assert receiver_for(empty, now, SHANGHAI, 1) == (None, True)


def test_who_is_on_call_text_and_bad_input():
    text = who_is_on_call(
        make_config(), parse_when("2026-11-23T10:00", at("2026-01-01T00:00"), SHANGHAI)
    )
    assert "值班人：值班甲" in text and "值班经理：经理乙" in text
    with pytest.raises(ValueError, match="--at"):
        parse_when("tomorrow", at("2026-01-01T00:00"), SHANGHAI)
    with pytest.raises(ValidationError, match="unknown team"):
        RosterFile.model_validate(
            {
                "people": [{"id": "a", "name": "甲"}],
                "shifts": [{"rotate": "x", "start": "2026-01-01"}],
            }
        )
    with pytest.raises(ValidationError, match="exactly one"):
        RosterFile.model_validate(
            {"people": [{"id": "a", "name": "甲"}], "shifts": [{"start": "2026-01-01"}]}
        )
