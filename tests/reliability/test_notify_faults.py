"""Notification faults over simulated hours: a channel down for an hour, and a gap in the roster.

Real webhook receivers on loopback, real database, the worker's tick driven by a controllable
clock (an hour of outage takes seconds).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.notify.planner import GAP_NOTE
from config.loader import load_config
from storage.models import AlertEvent, Notification
from tests.reliability.helpers import ComplaintApi, WebhookReceiver
from tests.reliability.scenario import assert_alerts_consistent, radar_config, threshold_rule
from worker.context import WorkerContext
from worker.main import tick


def _api_with_group_event(clock) -> ComplaintApi:
    api = ComplaintApi()
    at = clock.now - timedelta(minutes=5)
    api.add(
        [
            {"id": f"g-{i}", "received_at": (at + timedelta(seconds=i)).isoformat(),
             "channel": "hotline", "product_code": "CAR-9", "text": "<b>理赔</b> 拒赔"}
            for i in range(6)
        ]
    )  # fmt: skip
    return api


def _source(api: ComplaintApi) -> dict:
    return {"name": "hotline", "kind": "http_api", "url": f"{api.base}/c", "records_path": "items",
            "max_attempts": 1}  # fmt: skip


def test_channel_down_for_an_hour_retries_with_backoff_and_falls_back(
    engine, clock, tmp_path, monkeypatch
):
    primary, backup = WebhookReceiver(status=503), WebhookReceiver(status=500)
    monkeypatch.setenv("RADAR_T_PRIMARY", f"{primary.base}/p")
    monkeypatch.setenv("RADAR_T_BACKUP", f"{backup.base}/b")
    channels = [
        {"name": "primary", "kind": "webhook", "url_env": "RADAR_T_PRIMARY", "retries": 2,
         "retry_wait_seconds": 0, "fallback": "backup", "fallback_after": 3},
        {"name": "backup", "kind": "webhook", "url_env": "RADAR_T_BACKUP", "retries": 1},
    ]  # fmt: skip
    api = _api_with_group_event(clock)
    config = load_config(
        radar_config(tmp_path / "config", [_source(api)], rules=[threshold_rule(5)],
                     channels=channels, default_channel="primary")
    )  # fmt: skip
    ctx = WorkerContext(config=config, engine=engine, clock=clock)
    try:
        for minute in range(60):
            if minute == 20:
                backup.status = 200  # the backup recovers after 20 minutes; the primary never
            tick(ctx)
            clock.advance(minutes=1)
    finally:
        ctx.leader.release()  # the PostgreSQL advisory lock is database-wide
        api.close()
        primary.close()
        backup.close()

    with Session(engine) as session:
        rows = {r.channel: r for r in session.scalars(select(Notification))}
        events = list(session.scalars(select(AlertEvent).order_by(AlertEvent.id)))
    assert set(rows) == {"primary", "backup"}, rows
    assert rows["primary"].status == "failed" and rows["primary"].attempts == 3
    assert "503" in rows["primary"].last_error
    assert rows["backup"].status == "sent", (rows["backup"].status, rows["backup"].last_error)
    # Each dispatcher attempt made its quick retries (2 per attempt on a 503).
    assert len(primary.requests) == 3 * 2
    # Backoff: the gaps between the backup's failed attempts grow.
    failed_at = [e.at for e in events if e.kind == "notify_failed" and "backup" in e.message]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(failed_at)]
    assert len(failed_at) >= 3 and gaps == sorted(gaps) and gaps[-1] > gaps[0], gaps
    kinds = [e.kind for e in events]
    assert "notify_fallback" in kinds and kinds[-1] == "notified", kinds
    # Delivered once to the backup, under one key, after it recovered.
    assert len(set(backup.receipts())) == 1 and backup.requests[-1]["body"]["alerts"]
    assert_alerts_consistent(engine)


def test_roster_gap_goes_to_default_receiver_and_is_flagged(engine, clock, tmp_path, monkeypatch):
    hook = WebhookReceiver()
    monkeypatch.setenv("RADAR_T_HOOK", f"{hook.base}/h")
    # 10:00 in Shanghai (the clock is 02:00 UTC): the only on-call shift is 20:00-08:00.
    roster = {
        "people": [{"id": "night-owl", "name": "夜班值班员"}, {"id": "boss", "name": "默认接收人"}],
        "shifts": [{"role": "oncall", "who": "night-owl", "start": "2026-01-01",
                    "from_time": "20:00", "to_time": "08:00"}],
        "default_receiver": "boss",
    }  # fmt: skip
    api = _api_with_group_event(clock)
    channels = [{"name": "hook", "kind": "webhook", "url_env": "RADAR_T_HOOK"}]
    config = load_config(
        radar_config(tmp_path / "config", [_source(api)], rules=[threshold_rule(5)],
                     channels=channels, default_channel="hook", roster=roster)
    )  # fmt: skip
    ctx = WorkerContext(config=config, engine=engine, clock=clock)
    try:
        for _ in range(3):
            tick(ctx)
            clock.advance(minutes=1)
    finally:
        ctx.leader.release()  # the PostgreSQL advisory lock is database-wide
        api.close()
        hook.close()
    [request] = hook.requests
    assert request["body"]["receiver"]["id"] == "boss"
    assert GAP_NOTE in request["body"]["text"], request["body"]["text"]
    with Session(engine) as session:
        [row] = session.scalars(select(Notification)).all()
    assert row.receiver == "boss" and GAP_NOTE in row.message and row.status == "sent"
