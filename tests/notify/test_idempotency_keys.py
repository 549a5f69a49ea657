"""Idempotency keys are unique per installation, person and message: a receiver that drops
repeated keys (as the README asks) must never drop a real page from another database."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from werkzeug import Request, Response

from alerts.notify.delivery import batch_key
from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.outbox import message_payload, queue_message
from alerts.notify.registry import build_channel
from storage.db import make_engine, make_session_factory, session_scope
from storage.installation import installation_id
from storage.migrate import upgrade_to_head
from storage.models import Installation
from tests.notify.conftest import add_alert, make_config

HOOK = [{"name": "hook", "kind": "webhook", "url_env": "T_HOOK_URL"}]


def dropping_receiver(httpserver, monkeypatch) -> tuple[list[str], list[dict]]:
    """Every key seen, and the bodies kept: a repeated Idempotency-Key is dropped."""
    seen: list[str] = []
    kept: list[dict] = []

    def handler(request: Request) -> Response:
        key = request.headers["Idempotency-Key"]
        if key not in seen:
            kept.append(request.get_json())
        seen.append(key)
        return Response(json.dumps({"ok": True}))

    httpserver.expect_request("/hook").respond_with_handler(handler)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    return seen, kept


def page_from_fresh_database(url: str, config, clock) -> None:
    """A new database whose alert #1 fires and whose weekly report is queued, both delivered."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        assert add_alert(session, clock.now).id == 1
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
        payload = message_payload("投诉雷达周报", "本周", "http://radar.local/weekly")
        queue_message(
            session, "weekly-report:2026-11-16:hook", "oncall-a", "hook", payload, clock.now
        )
    channels = {"hook": build_channel(config.channels.channels[0])}
    deliver_due(factory, channels, config, clock.now, dashboard_url="http://radar.local")
    engine.dispose()


def test_fresh_and_rebuilt_databases_never_share_a_key(tmp_path, clock, httpserver, monkeypatch):
    seen, kept = dropping_receiver(httpserver, monkeypatch)
    config = make_config(channels=HOOK, routes={"group_wait_seconds": 0})
    page_from_fresh_database(f"sqlite:///{tmp_path / 'production.db'}", config, clock)
    page_from_fresh_database(f"sqlite:///{tmp_path / 'staging.db'}", config, clock)
    (tmp_path / "production.db").unlink()  # rebuilt from scratch
    clock.advance(days=1)
    page_from_fresh_database(f"sqlite:///{tmp_path / 'production.db'}", config, clock)
    assert len(seen) == 6 and len(kept) == 6  # 3 databases x (alert #1 + weekly report)


def test_the_installation_id_is_made_once_and_kept_by_later_upgrades(engine):
    factory = make_session_factory(engine)
    with factory() as session:
        first = installation_id(session)
    upgrade_to_head(engine)
    with factory() as session:
        assert installation_id(session) == first and len(first) == 32
        assert session.scalar(select(func.count()).select_from(Installation)) == 1


def test_keys_differ_per_person_and_per_message_and_repeat_for_a_resend():
    rows = ["1:firing:L0:R0:duty:hook", "2:firing:L0:R0:duty:hook"]
    key = batch_key("inst", "oncall-a", rows)
    assert key == batch_key("inst", "oncall-a", list(reversed(rows)))  # a resend: same key
    assert key != batch_key("inst", "manager-b", rows)
    assert key != batch_key("inst", "oncall-a", rows[:1])
    assert key != batch_key("other", "oncall-a", rows)
