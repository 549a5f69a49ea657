"""The closing-day report of the accountability month, through the real outbox to a real
webhook receiver: due on the 21st at 09:00, queued once across checks and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.monthly import cycle_of
from storage.models import MonthlySnapshot
from tests.conftest import Clock
from tests.dashboard.seed import complaint, ingest
from tests.dashboard.test_monthly import _seed
from tests.dashboard.test_weekly_job import HOOK, hook, rows, worker  # noqa: F401  (fixture)
from worker.main import build_scheduler, notify_job
from worker.monthly_job import due_at, last_closed_cycle, monthly_report_job

SHANGHAI = ZoneInfo("Asia/Shanghai")

CLOSING_NINE = datetime(2026, 12, 21, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai on the 21st
KEY = "monthly-report:2026-12:hook"


def run(ctx) -> None:
    monthly_report_job(ctx)
    notify_job(ctx)


def test_due_on_the_closing_day_at_nine():
    cycle = last_closed_cycle(CLOSING_NINE, 21, SHANGHAI)
    assert (str(cycle.start), str(cycle.end)) == ("2026-11-21", "2026-12-20")
    assert due_at(cycle, SHANGHAI) == CLOSING_NINE
    assert last_closed_cycle(CLOSING_NINE - timedelta(hours=10), 21, SHANGHAI) == cycle_of(
        datetime(2026, 11, 1).date(), 21
    )


def test_queued_once_after_nine_across_checks_and_restarts(engine, hook):  # noqa: F811
    _seed(engine)
    clock = Clock(CLOSING_NINE - timedelta(minutes=5))
    run(worker(engine, clock, [HOOK]))
    assert hook.keys == []
    clock.now = CLOSING_NINE + timedelta(minutes=20)  # down over 09:00, started at 09:20
    first = worker(engine, clock, [HOOK])
    run(first)
    clock.advance(minutes=5)
    run(first)
    first.leader.release()
    run(worker(engine, clock, [HOOK]))  # a restart
    assert len(hook.keys) == 1
    body = hook.bodies[0]
    assert body["title"].startswith("投诉雷达月度考核 2026-12")
    assert "受理 6 件" in body["text"] and "http://radar.local/monthly" in body["text"]
    assert [r.status for k, r in rows(first).items() if k == KEY] == ["sent"]


def test_a_first_deployment_days_later_does_not_send_a_stale_month(engine, hook):  # noqa: F811
    clock = Clock(CLOSING_NINE + timedelta(days=3))
    run(worker(engine, clock, [HOOK]))
    assert hook.keys == [] and rows(worker(engine, clock, [HOOK])) == {}


def test_the_scheduler_runs_it(sqlite_engine):
    ctx = worker(sqlite_engine, Clock(CLOSING_NINE), [HOOK])
    assert "monthly-report" in {job.id for job in build_scheduler(ctx).get_jobs()}


def test_the_job_snapshots_cycles_and_redoes_a_stale_one(engine, hook):  # noqa: F811
    _seed(engine)
    clock = Clock(CLOSING_NINE + timedelta(minutes=20))
    ctx = worker(engine, clock, [HOOK])

    def snapshots() -> dict[str, object]:
        with Session(engine) as session:
            return {s.cycle: s.built_at for s in session.scalars(select(MonthlySnapshot))}

    run(ctx)  # the open cycle, the closed one, and the one before it
    assert snapshots() == {"2027-01": clock.now, "2026-12": clock.now, "2026-11": clock.now}
    first = clock.now
    clock.advance(minutes=5)
    run(ctx)  # nothing changed: kept; one more older cycle
    assert snapshots()["2026-12"] == snapshots()["2027-01"] == first and len(snapshots()) == 4
    late = datetime(2026, 12, 20, 2, tzinfo=UTC)  # 2026-12-20 10:00 local: the closed cycle
    ingest(engine, [complaint(99, late, "web", branch="广州分公司")])
    clock.advance(minutes=5)
    run(ctx)  # and the open cycle's, whose previous cycle it is
    assert snapshots()["2026-12"] == snapshots()["2027-01"] == clock.now
    redone = clock.now
    ingest(engine, [complaint(100, clock.now - timedelta(minutes=1), "web")])  # the open cycle
    clock.advance(minutes=5)
    run(ctx)
    assert snapshots()["2027-01"] == clock.now and snapshots()["2026-12"] == redone
    assert len(hook.keys) == 1  # the report was sent once, from the first snapshot
