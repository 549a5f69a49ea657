"""Models for routes.yaml: a routing tree like Alertmanager's, receivers, escalation and quiet rules.

Labels routes match on: ``rule``, ``rule_kind``, ``severity`` ("1" … "4") and the alert key's
dimensions (``product_code``, ``product_line``, ``region``, ``event_tag`` …).
A missing routes.yaml sends everything to ``channels.yaml``'s default_channel.
"""

from __future__ import annotations

from datetime import time
from typing import Any, Literal, cast

from pydantic import Field, field_validator, model_validator

from config.base import NAME_PATTERN, StrictModel, require_unique

DayKind = Literal[
    "workday", "holiday", "weekend", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "any"
]


def _as_matchers(value: Any) -> dict[str, list[str]]:
    """Label matchers: a value or a list of values per label; numbers are written as they read."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of label to value(s)")
    out: dict[str, list[str]] = {}
    for label, wanted in value.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or any(isinstance(v, (dict, list)) or v is None for v in values):
            raise ValueError(f"label {label!r}: give a value or a list of values")
        out[str(label)] = [str(v) for v in values]
    return out


class Receiver(StrictModel):
    """Where a receiver's messages go; the person comes from the roster at each escalation level."""

    name: str = Field(pattern=NAME_PATTERN)
    channels: list[str] = Field(min_length=1)


class TimeWindow(StrictModel):
    """Days and a daily time range (local: ``calendar.timezone``); ``to_time`` at or before
    ``from_time`` runs overnight and belongs to the day it starts on."""

    days: list[DayKind] = Field(
        default_factory=lambda: cast("list[DayKind]", ["any"]), min_length=1
    )
    from_time: time = time(0, 0)
    to_time: time = time(0, 0)


class Route(StrictModel):
    """Alerts matching every label in ``match`` go to ``receiver`` unless a child route takes them.
    With ``active`` the route matches only inside one of its time windows (e.g. a phone call for
    Ⅰ级 at night); an alert still unacknowledged when a window opens is sent there then."""

    match: dict[str, list[str]] = Field(default_factory=dict)
    active: list[TimeWindow] = Field(default_factory=list)
    receiver: str | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = Field(default_factory=list)

    _matchers = field_validator("match", mode="before")(classmethod(lambda cls, v: _as_matchers(v)))


class MuteWindow(StrictModel):
    """No notifications for matching alerts on these days between the times; sent when it ends."""

    name: str = Field(pattern=NAME_PATTERN)
    match: dict[str, list[str]] = Field(default_factory=dict)
    days: list[DayKind] = Field(
        default_factory=lambda: cast("list[DayKind]", ["any"]), min_length=1
    )
    from_time: time = time(0, 0)
    to_time: time = time(0, 0)

    _matchers = field_validator("match", mode="before")(classmethod(lambda cls, v: _as_matchers(v)))


class InhibitRule(StrictModel):
    """A firing source alert (e.g. an event wave) silences the target alerts it contains.

    Contained means: every ``equal`` label has the same value on both, and at least
    ``min_overlap`` of the target's complaints are among the source's complaints.
    """

    source_match: dict[str, list[str]] = Field(default_factory=dict)
    target_match: dict[str, list[str]] = Field(default_factory=dict)
    equal: list[str] = Field(default_factory=list)
    min_overlap: float = Field(default=0.5, ge=0, le=1)

    _source = field_validator("source_match", mode="before")(
        classmethod(lambda cls, v: _as_matchers(v))
    )
    _target = field_validator("target_match", mode="before")(
        classmethod(lambda cls, v: _as_matchers(v))
    )


class RoutesFile(StrictModel):
    receivers: list[Receiver] = Field(default_factory=list)
    route: Route | None = None
    escalation_minutes: dict[int, int] = Field(
        default_factory=lambda: {1: 5, 2: 15, 3: 60},
        description="Per severity: minutes without acknowledgement before the next level.",
    )
    group_wait_seconds: int = Field(default=30, ge=0, le=3600)
    repeat_minutes: int = Field(default=240, ge=0, description="0 = no repeat while firing.")
    acknowledged_repeat_minutes: int = Field(
        default=720, ge=0, description="Remind about acknowledged but unresolved alerts; 0 = never."
    )
    mute_windows: list[MuteWindow] = Field(default_factory=list)
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)

    @field_validator("escalation_minutes")
    @classmethod
    def _severities(cls, value: dict[int, int]) -> dict[int, int]:
        for severity, minutes in value.items():
            if severity not in (1, 2, 3, 4) or minutes < 0:
                raise ValueError("keys are severities 1-4, values minutes >= 0 (0 = no escalation)")
        return value

    @model_validator(mode="after")
    def _tree(self) -> RoutesFile:
        names = [r.name for r in self.receivers]
        require_unique(names, "receiver")
        require_unique([m.name for m in self.mute_windows], "mute window")
        if self.route is None:
            if self.receivers:
                raise ValueError("route: a default route (with a receiver) is required")
            return self
        if not self.route.receiver:
            raise ValueError("route: the top-level (default) route needs a receiver")
        if self.route.match:
            raise ValueError("route: the default route must not have match (it takes everything)")
        stack = [self.route]
        while stack:
            node = stack.pop()
            if node.receiver and node.receiver not in names:
                raise ValueError(f"route: unknown receiver {node.receiver!r}")
            stack.extend(node.routes)
        return self


def routes_cross_issues(routes: RoutesFile, channel_names: list[str]) -> list[tuple[str, str]]:
    """(path, message) for receivers that name channels channels.yaml does not declare."""
    issues = []
    for i, receiver in enumerate(routes.receivers):
        for j, channel in enumerate(receiver.channels):
            if channel not in channel_names:
                issues.append(
                    (f"receivers[{i}].channels[{j}]", f"channel {channel!r} is not declared")
                )
    return issues
