"""Shared worker scenarios: configs and the invariants every fault test checks afterwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from collectors.simulator import SimulatorCollector
from config.models import SimulatorSource
from domain.states import ACTIVE_ALERT_STATES
from storage.models import Alert, AlertEvent, Complaint, ComplaintCount, Notification, SourceState
from tests.reliability.helpers import write_config


def simulator_source(**overrides: Any) -> dict[str, Any]:
    source = {
        "name": "sim",
        "kind": "simulator",
        "interval_seconds": 5,
        "rate_per_day": 4000,
        "backfill_hours": 2,
        "event_every_minutes": 30,
        "first_event_after_minutes": 0,
    }
    return {**source, **overrides}


def threshold_rule(threshold: int = 4) -> dict[str, Any]:
    return {
        "name": "product-threshold",
        "kind": "threshold",
        "group_by": ["product_code"],
        "window_minutes": 60,
        "threshold": threshold,
        "severity": 4,
        "for_minutes": 0,
        "resolve_after_minutes": 30,
    }


def radar_config(
    folder: Path,
    sources: list[dict[str, Any]],
    rules: list[dict[str, Any]] | None = None,
    channels: list[dict[str, Any]] | None = None,
    default_channel: str = "log",
    evaluation_seconds: int = 5,
    roster: dict[str, Any] | None = None,
) -> Path:
    """A complete config folder; notifications go out at once (no group wait)."""
    return write_config(
        folder,
        sources={"sources": sources},
        rules={"evaluation_interval_seconds": evaluation_seconds, "rules": rules or []},
        roster=roster or {"people": [{"id": "duty", "name": "值班员"}], "default_receiver": "duty"},
        channels={
            "default_channel": default_channel,
            "channels": channels or [{"name": "log", "kind": "log"}],
        },
        routes={"group_wait_seconds": 0},
    )


def source_state(engine: Engine, name: str) -> SourceState | None:
    """The source's state row, or None before its first run (for polling a live worker)."""
    with Session(engine) as session:
        return session.get(SourceState, name)


def stored_state(engine: Engine, name: str) -> SourceState:
    """The source's state row where the test expects it to exist: a missing row is a failure."""
    state = source_state(engine, name)
    assert state is not None, f"no stored state for source {name!r}"
    return state


def simulator_ids(config: dict[str, Any], cursor: str) -> set[str]:
    """Every id the simulator delivers from its first run up to ``cursor`` (regenerated here)."""
    state = json.loads(cursor)
    anchor, until = datetime.fromisoformat(state["anchor"]), datetime.fromisoformat(state["until"])
    source = SimulatorSource.model_validate(config)
    collector = SimulatorCollector(source)
    start = anchor - timedelta(hours=source.backfill_hours)
    cursor = json.dumps({"anchor": anchor.isoformat(), "until": start.isoformat()})
    ids: set[str] = set()
    while True:
        batch = collector.fetch(cursor, until)
        ids.update(r["id"] for r in batch.records)
        cursor = batch.cursor
        if not batch.has_more:
            return ids


def stored_ids(engine: Engine, source: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(select(Complaint.external_id).where(Complaint.source == source))
        )


def assert_counts_match_records(engine: Engine, source: str) -> None:
    """The per-bucket counts detection reads equal the stored records: nothing rolled up twice."""
    with Session(engine) as session:
        records = session.scalar(
            select(func.count()).select_from(Complaint).where(Complaint.source == source)
        )
        counted = session.scalar(
            select(func.coalesce(func.sum(ComplaintCount.count), 0)).where(
                ComplaintCount.source == source
            )
        )
    assert counted == records, f"counts say {counted}, records say {records}"


def assert_alerts_consistent(engine: Engine) -> None:
    """One active alert per fingerprint; every alert has its audit trail; no notification twice."""
    with Session(engine) as session:
        doubled = session.execute(
            select(Alert.fingerprint, func.count())
            .where(Alert.state.in_([s.value for s in ACTIVE_ALERT_STATES]))
            .group_by(Alert.fingerprint)
            .having(func.count() > 1)
        ).all()
        assert not doubled, f"several active alerts for one fingerprint: {doubled}"
        orphans = session.scalars(
            select(Alert.id).where(~Alert.events.any(AlertEvent.kind == "created"))
        ).all()
        assert not orphans, f"alerts without their 'created' audit event: {orphans}"
        keys = session.execute(
            select(Notification.idempotency_key, func.count())
            .group_by(Notification.idempotency_key)
            .having(func.count() > 1)
        ).all()
        assert not keys, f"notification planned twice: {keys}"
