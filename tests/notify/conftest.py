"""Helpers for notification tests: a small roster, configs built in code, alerts inserted directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from config.loader import RadarConfig
from config.models import ChannelsFile, RosterFile, RulesFile, SourcesFile
from config.routes import RoutesFile
from domain.states import AlertState
from storage.models import Alert

ROSTER = {
    "people": [
        {"id": "oncall-a", "name": "值班甲", "phone": "13900000001", "email": "a@example.com"},
        {"id": "manager-b", "name": "经理乙", "phone": "13900000002", "email": "b@example.com"},
        {"id": "head-c", "name": "负责人丙", "phone": "13900000003", "email": "c@example.com"},
    ],
    "shifts": [
        {"role": "oncall", "who": "oncall-a", "start": "2026-01-01"},
        {"role": "manager", "who": "manager-b", "start": "2026-01-01"},
        {"role": "head", "who": "head-c", "start": "2026-01-01"},
    ],
    "default_receiver": "oncall-a",
}


def make_config(
    channels: list[dict[str, Any]] | None = None,
    routes: dict[str, Any] | None = None,
    roster: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
) -> RadarConfig:
    channels = channels or [{"name": "log", "kind": "log"}]
    return RadarConfig(
        sources=SourcesFile(),
        rules=RulesFile.model_validate(rules or {}),
        roster=RosterFile.model_validate(roster or ROSTER),
        channels=ChannelsFile.model_validate(
            {"channels": channels, "default_channel": channels[0]["name"]}
        ),
        routes=RoutesFile.model_validate(routes or {}),
    )


def add_alert(session: Session, now: datetime, **overrides: Any) -> Alert:
    """A firing alert as the engine would leave it; ``overrides`` set any column."""
    values: dict[str, Any] = {
        "fingerprint": f"fp-{now.timestamp()}-{overrides.get('title', '')}",
        "rule": "product-threshold",
        "rule_kind": "threshold",
        "key": {"product_code": "P001"},
        "title": "产品 P001 投诉激增",
        "severity": 1,
        "state": AlertState.FIRING.value,
        "started_at": now,
        "fired_at": now,
        "last_seen_at": now,
        "count": 30,
        "expected": 4.0,
        "score": 5.0,
        "evidence": {"complaint_ids": []},
        "silenced": False,
    }
    values.update(overrides)
    alert = Alert(**values)
    session.add(alert)
    session.commit()
    return alert


@pytest.fixture
def config_factory():
    return make_config
