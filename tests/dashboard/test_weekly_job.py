"""The Monday 09:00 report through the notifications outbox, on both databases, with a real
webhook receiver and a real SMTP server: due after a restart, queued once, retried, fallen back,
and the Excel file attached to the email."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug import Request, Response

from alerts.notify.delivery import batch_key
from storage.installation import installation_id
from storage.models import Notification
from tests.conftest import Clock
from tests.dashboard.test_report import WEEK, _seed
from tests.notify.conftest import make_config
from tests.notify.test_email import (
    body_of,
    smtp,  # noqa: F401  (the real aiosmtpd server fixture)
)
from worker.context import WorkerContext
from worker.main import build_scheduler, notify_job
from worker.weekly_job import due_at, queue_weekly_report, weekly_report_job

SHANGHAI = ZoneInfo("Asia/Shanghai")

MONDAY_NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai
KEY = "weekly-report:2026-11-16"


class Receiver:
    """A webhook endpoint that answers with the queued statuses, then 200; counts keys."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.keys: list[str] = []
        self.bodies: list[dict] = []

    def __call__(self, request: Request) -> Response:
        self.keys.append(request.headers["Idempotency-Key"])
        self.bodies.append(json.loads(request.data))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(json.dumps({"ok": status == 200}), status=status)


@pytest.fixture
def hook(httpserver, monkeypatch):
    receiver = Receiver()
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    monkeypatch.setenv("T_WEEKLY_HOOK", httpserver.url_for("/hook"))
    return receiver


HOOK = {"name": "hook", "kind": "webhook", "url_env": "T_WEEKLY_HOOK", "retries": 1,
        "retry_wait_seconds": 0}  # fmt: skip


def mail_channel(port: int) -> dict:
    return {"name": "mail", "kind": "email", "host": "127.0.0.1", "port": port,
            "security": "none", "from_addr": "radar@example.com", "to": ["exec@example.com"],
            "retry_wait_seconds": 0}  # fmt: skip


def worker(engine, clock: Clock, channels: list[dict]) -> WorkerContext:
    """A fresh worker process (as after a restart) on the same database."""
    ctx = WorkerContext(config=make_config(channels=channels), engine=engine, clock=clock)
    ctx.dashboard_url = "http://radar.local"
    return ctx


def run(ctx: WorkerContext) -> None:
    """What the scheduler runs: the weekly check, then the notify job that delivers."""
    weekly_report_job(ctx)
    notify_job(ctx)


def rows(ctx: WorkerContext) -> dict[str, Notification]:
    with ctx.factory() as session:
        return {r.idempotency_key: r for r in session.scalars(select(Notification))}


def wire_key(engine, row_key: str) -> str:
    """The Idempotency-Key a queued row goes out with (per installation and person)."""
    with Session(engine) as session:
        query = select(Notification).where(Notification.idempotency_key == row_key)
        row = session.scalars(query).one()
        return batch_key(installation_id(session), row.receiver, [row_key])


def test_due_at_is_monday_nine_in_shanghai():
    assert due_at(WEEK, SHANGHAI) == MONDAY_NINE


def test_the_report_is_due_at_nine_in_the_configured_time_zone(engine, hook):
    """rules.yaml ``calendar.timezone`` sets the week's days and the 09:00 it is sent at."""
    clock = Clock(MONDAY_NINE + timedelta(hours=2))  # 11:00 Shanghai, 01:00 in London
    ctx = WorkerContext(
        config=make_config(channels=[HOOK], rules={"calendar": {"timezone": "Europe/London"}}),
        engine=engine,
        clock=clock,
    )
    assert queue_weekly_report(ctx) == 0
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 09:00 in London
    assert queue_weekly_report(ctx) == 1
    assert sorted(rows(ctx)) == [f"{KEY}:hook"]


def test_worker_down_over_nine_sends_once_when_it_starts_at_nine_twenty(engine, hook):
    _seed(engine)
    clock = Clock(MONDAY_NINE - timedelta(minutes=5))  # 08:55: not due yet
    run(worker(engine, clock, [HOOK]))
    assert hook.keys == [] and rows(worker(engine, clock, [HOOK])) == {}
    clock.now = MONDAY_NINE + timedelta(minutes=20)  # down over 09:00, started at 09:20
    first = worker(engine, clock, [HOOK])
    run(first)
    assert hook.keys == [wire_key(engine, f"{KEY}:hook")]
    body = hook.bodies[0]
    assert body["title"].startswith("投诉雷达周报 2026-11-16")
    assert "投诉总量 6 件" in body["text"] and "http://radar.local/weekly" in body["text"]
    clock.advance(minutes=5)  # the next check on the same worker
    run(first)
    first.leader.release()
    clock.advance(minutes=5)  # a restart: a new process
    run(worker(engine, clock, [HOOK]))
    assert hook.keys == [wire_key(engine, f"{KEY}:hook")]
    assert [(r.status, r.attempts) for r in rows(first).values()] == [("sent", 1)]


def test_two_checks_queue_one_row_per_week_and_channel(engine, hook):
    clock = Clock(MONDAY_NINE + timedelta(hours=2))
    ctx = worker(engine, clock, [HOOK, {"name": "log", "kind": "log"}])
    assert queue_weekly_report(ctx) == 2
    assert queue_weekly_report(ctx) == 0
    assert sorted(rows(ctx)) == [f"{KEY}:hook", f"{KEY}:log"]
    clock.advance(days=7)  # the next Monday: the next week's report
    assert queue_weekly_report(ctx) == 2
    assert len(rows(ctx)) == 4


def test_a_first_deployment_mid_week_waits_for_next_monday(engine, hook, caplog):
    """A stale report is not news; once reports have gone out, a late one still does."""
    clock = Clock(MONDAY_NINE + timedelta(days=2))  # deployed on Wednesday
    ctx = worker(engine, clock, [HOOK])
    with caplog.at_level("INFO", logger="radar.weekly"):
        assert queue_weekly_report(ctx) == 0
    assert "skipped as stale" in caplog.text and rows(ctx) == {}
    clock.now = MONDAY_NINE + timedelta(days=7, hours=11)  # next Monday, 20:00
    assert queue_weekly_report(ctx) == 1
    clock.advance(days=9)  # the worker was down all the next Monday: that report still goes
    assert queue_weekly_report(ctx) == 1
    assert sorted(rows(ctx)) == [
        "weekly-report:2026-11-23:hook",
        "weekly-report:2026-11-30:hook",
    ]


def test_a_failing_channel_is_retried_with_backoff_then_delivered(engine, hook):
    hook.statuses = [503, 503]
    clock = Clock(MONDAY_NINE)
    ctx = worker(engine, clock, [HOOK])
    run(ctx)
    row = rows(ctx)[f"{KEY}:hook"]
    assert (row.status, row.attempts) == ("pending", 1) and "503" in row.last_error
    assert row.next_attempt_at == MONDAY_NINE + timedelta(seconds=30)
    clock.advance(seconds=29)
    run(ctx)
    assert len(hook.keys) == 1  # backing off
    clock.advance(seconds=1)
    run(ctx)
    clock.advance(minutes=1)
    run(ctx)
    assert hook.keys == [wire_key(engine, f"{KEY}:hook")] * 3  # the same key each time
    row = rows(ctx)[f"{KEY}:hook"]
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")


def test_email_carries_the_excel_report_and_a_dead_robot_does_not_send_the_mail_twice(
    engine,
    hook,
    smtp,  # noqa: F811
):
    controller, inbox = smtp
    _seed(engine)
    hook.statuses = [500] * 10
    clock = Clock(MONDAY_NINE + timedelta(minutes=1))
    channels = [HOOK | {"fallback": "mail", "fallback_after": 2}, mail_channel(controller.port)]
    ctx = worker(engine, clock, channels)
    run(ctx)  # mail delivered; the robot fails once
    clock.advance(seconds=30)
    run(ctx)  # the robot fails again: its fallback, email, has the report already
    run(ctx)
    by_key = rows(ctx)
    assert {k: r.status for k, r in by_key.items()} == {
        f"{KEY}:hook": "failed",
        f"{KEY}:mail": "sent",
    }
    mails = [message_from_bytes(raw, policy=policy.default) for _f, _to, raw in inbox.messages]
    assert [m["X-Idempotency-Key"] for m in mails] == [wire_key(engine, f"{KEY}:mail")]
    for mail in mails:
        assert mail["Subject"].startswith("投诉雷达周报 2026-11-16")
        assert "投诉总量 6 件" in body_of(mail)
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_filename() == "投诉雷达周报-2026-11-16.xlsx"
        book = load_workbook(io.BytesIO(attachment.get_content()))
        assert book["汇总"]["B4"].value == 6
    assert all(not b.get("attachments") for b in hook.bodies)  # robots: text + link only


@pytest.mark.postgres
def test_only_the_leader_queues(postgres_engine, hook):
    """PostgreSQL only: on SQLite (one worker by design) every worker leads."""
    clock = Clock(MONDAY_NINE)
    leader = worker(postgres_engine, clock, [HOOK])
    assert leader.is_leader()
    follower = worker(postgres_engine, clock, [HOOK])
    weekly_report_job(follower)
    assert not follower.is_leader()
    assert rows(leader) == {}
    weekly_report_job(leader)
    assert list(rows(leader)) == [f"{KEY}:hook"]
    leader.leader.release()


def test_scheduler_checks_at_start_up_and_every_few_minutes(sqlite_engine):
    ctx = worker(sqlite_engine, Clock(MONDAY_NINE), [HOOK])
    before = datetime.now(UTC)
    job = build_scheduler(ctx).get_job("weekly-report")
    assert job.trigger.interval == timedelta(minutes=5)
    assert job.misfire_grace_time is None
    assert before - timedelta(seconds=1) <= job.next_run_time <= datetime.now(UTC)
