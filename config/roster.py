"""Models for roster.yaml: people, teams, shifts and overrides (local times: ``calendar.timezone``).

Three roles form the escalation chain: ``oncall`` (值班) → ``manager`` (值班经理) → ``head`` (部门负责人).
A shift names one person (``who``) or rotates daily through several (``rotate``: a list of people or
a team name), so a Spring Festival roster takes a few lines.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import Field, model_validator

from config.base import NAME_PATTERN, StrictModel, require_unique

Role = Literal["oncall", "manager", "head"]
ROLES: tuple[Role, ...] = ("oncall", "manager", "head")
ROLE_LABELS: dict[str, str] = {"oncall": "值班人", "manager": "值班经理", "head": "部门负责人"}


class Person(StrictModel):
    id: str = Field(pattern=NAME_PATTERN)
    name: str
    phone: str = ""
    email: str = ""
    wecom_id: str = ""
    dingtalk_id: str = ""
    feishu_id: str = ""


class Team(StrictModel):
    """A named group of people; a shift may rotate through its members in order."""

    id: str = Field(pattern=NAME_PATTERN)
    name: str = ""
    members: list[str] = Field(min_length=1)


class Shift(StrictModel):
    """On call from ``start`` to ``end`` (dates inclusive; no end = open-ended), daily between the times.

    ``to_time`` at or before ``from_time`` runs overnight and belongs to the day it starts on.
    ``rotate`` changes the person every day (day 1 the first, day 2 the second, ...).
    """

    role: Role = "oncall"
    who: str | None = None
    rotate: list[str] | str | None = None
    start: date
    end: date | None = None
    from_time: time = time(0, 0)
    to_time: time = time(0, 0)
    note: str = ""

    @model_validator(mode="after")
    def _valid(self) -> Shift:
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        if (self.who is None) == (self.rotate is None):
            raise ValueError("give exactly one of who (one person) or rotate (people or a team)")
        if isinstance(self.rotate, list) and not self.rotate:
            raise ValueError("rotate needs at least one person")
        return self


class Override(StrictModel):
    """A one-off swap: ``who`` takes ``role`` from ``start`` to ``end`` (local date-times), above all shifts."""

    role: Role = "oncall"
    who: str
    start: datetime
    end: datetime
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class RosterFile(StrictModel):
    people: list[Person] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    shifts: list[Shift] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    default_receiver: str | None = None

    @model_validator(mode="after")
    def _known_people(self) -> RosterFile:
        ids = [p.id for p in self.people]
        require_unique(ids, "person")
        require_unique([t.id for t in self.teams], "team")
        teams = {t.id for t in self.teams}
        names: list[str] = [self.default_receiver or ""]
        names += [m for t in self.teams for m in t.members]
        names += [o.who for o in self.overrides]
        for shift in self.shifts:
            if shift.who:
                names.append(shift.who)
            elif isinstance(shift.rotate, str):
                if shift.rotate not in teams:
                    raise ValueError(f"unknown team {shift.rotate!r}; declare it under teams")
            else:
                names += shift.rotate or []
        for name in names:
            if name and name not in ids:
                raise ValueError(f"unknown person {name!r}; declare it under people")
        return self

    def members(self, team: str) -> list[str]:
        """The member ids of one team (empty when unknown)."""
        return next((list(t.members) for t in self.teams if t.id == team), [])
