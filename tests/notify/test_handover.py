"""The night on-call who takes over hears of what the day shift left open: a handover message
at the shift change and reminders to whoever is on call now, to a real webhook receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from werkzeug import Request, Response

from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert
from tests.notify.conftest import ROSTER, add_alert, make_config

DAY_AND_NIGHT = {
    **ROSTER,
    "people": [*ROSTER["people"], {"id": "night-n", "name": "夜班丁", "phone": "13900000004"}],
    "shifts": [
        {"role": "oncall", "who": "oncall-a", "start": "2026-01-01",
         "from_time": "08:00", "to_time": "20:00"},
        {"role": "oncall", "who": "night-n", "start": "2026-01-01",
         "from_time": "20:00", "to_time": "08:00"},
        *ROSTER["shifts"][1:],
    ],
}  # fmt: skip


def test_the_night_on_call_gets_a_handover_and_the_reminders(
    factory, clock, httpserver, monkeypatch
):
    got: list[tuple[str, str]] = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        got.append((body["receiver"]["id"], body["title"]))
        return Response(json.dumps({"ok": True}))

    httpserver.expect_request("/hook").respond_with_handler(handler)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    config = make_config(
        channels=[{"name": "hook", "kind": "webhook", "url_env": "T_HOOK_URL"}],
        routes={"group_wait_seconds": 0, "repeat_minutes": 30},
        roster=DAY_AND_NIGHT,
    )
    built = {"hook": build_channel(config.channels.channels[0])}
    clock.now = datetime(2026, 11, 23, 11, 50, tzinfo=UTC)  # 19:50 in Shanghai
    with factory() as session:
        add_alert(session, clock.now, severity=1, title="产品 P001 投诉激增")
    for _ in range(7):  # 19:50 … 20:20, every 5 minutes
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
        deliver_due(factory, built, config, clock.now, dashboard_url="http://radar.local")
        clock.advance(minutes=5)
    night = [title for person, title in got if person == "night-n"]
    assert night == [
        "【交接班】夜班丁 20:00 接班：1 条告警未恢复",
        "【Ⅰ级投诉预警】产品 P001 投诉激增",  # the 20:20 reminder, besides the head's copy
    ]
    assert [person for person, _ in got].count("head-c") == 2  # escalation at 20:00, reminder
    with session_scope(factory) as session:
        alert = session.get_one(Alert, 1)
        alert.state, alert.resolved_at = AlertState.RESOLVED.value, clock.now
    for _ in range(2):
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
        deliver_due(factory, built, config, clock.now, dashboard_url="http://radar.local")
    recovered = sorted(person for person, title in got if title.startswith("【投诉预警已恢复】"))
    assert recovered == ["head-c", "manager-b", "night-n", "oncall-a"]  # each of them, once
