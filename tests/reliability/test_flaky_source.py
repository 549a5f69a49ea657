"""A complaint API that refuses connections, times out, answers 500/429 or garbage, then recovers.

Real loopback HTTP server, real database, the worker's own tick with a controllable clock (so
that ``source_silent`` can fire after minutes of outage without waiting for them).
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.loader import load_config
from storage.models import Alert, QuarantinedRecord
from tests.reliability.helpers import ComplaintApi, WorkerProcess, wait_for
from tests.reliability.scenario import (
    assert_alerts_consistent,
    assert_counts_match_records,
    radar_config,
    stored_ids,
    stored_state,
)
from worker.context import WorkerContext
from worker.main import tick

OUTAGE = ["refused", "timeout", "500", "429", "garbage", "wrong_shape", "reset"]


def _source(api: ComplaintApi, **extra) -> dict:
    return {
        "name": "webform",
        "kind": "http_api",
        "url": f"{api.base}/complaints",
        "records_path": "items",
        "interval_seconds": 60,
        "timeout_seconds": 0.5,
        "max_attempts": 2,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "silent_after_minutes": 5,
        **extra,
    }


def test_outage_then_recovery_loses_nothing_and_raises_source_silent(engine, clock, tmp_path):
    api = ComplaintApi()
    api.slow_seconds = 1.5
    rules = [{"name": "source-silent", "kind": "source_silent", "resolve_after_minutes": 0}]
    config = load_config(radar_config(tmp_path / "config", [_source(api)], rules=rules))
    ctx = WorkerContext(config=config, engine=engine, clock=clock)
    serial = 0

    def minute() -> None:
        nonlocal serial
        clock.advance(minutes=1)
        at = clock.now - timedelta(seconds=20)
        api.add(
            [
                {"id": f"w-{serial + i}", "received_at": at.isoformat(), "channel": "web",
                 "product_code": "HLT-1", "text": "理赔太慢"}
                for i in range(3)
            ]
        )  # fmt: skip
        serial += 3
        tick(ctx)

    def silent_alerts() -> list[Alert]:
        with Session(engine) as session:
            return list(session.scalars(select(Alert).where(Alert.rule == "source-silent")))

    try:
        for _ in range(3):
            minute()
        assert stored_state(engine, "webform").consecutive_failures == 0

        errors: dict[str, str] = {}
        failures = 0
        for mode in OUTAGE:
            if mode == "refused":
                api.pause()
            else:
                api.set_mode(mode)
            for _ in range(2):
                minute()
                failures += 1
                state = stored_state(engine, "webform")
                assert state.consecutive_failures == failures, (mode, state.last_error)
            errors[mode] = state.last_error
            if mode == "refused":
                api.resume()
        assert all(errors.values()), errors
        assert "Connect" in errors["refused"] and "Timeout" in errors["timeout"], errors
        assert "500" in errors["500"] and "429" in errors["429"], errors
        assert "JSON" in errors["garbage"] and "not a list" in errors["wrong_shape"], errors
        [alert] = silent_alerts()
        assert alert.state == "firing" and alert.key == {"source": "webform"}

        api.set_mode("ok")
        minute()
        minute()
    finally:
        ctx.leader.release()  # the PostgreSQL advisory lock is database-wide
        api.close()

    state = stored_state(engine, "webform")
    assert state.consecutive_failures == 0 and state.last_success_at == clock.now
    [alert] = silent_alerts()
    assert alert.state == "resolved", alert.state
    expected = {r["id"] for r in api.records}
    stored = stored_ids(engine, "webform")
    assert len(stored) == len(expected) == len(set(stored)) and set(stored) == expected
    with Session(engine) as session:
        assert session.scalars(select(QuarantinedRecord)).all() == []
    assert_counts_match_records(engine, "webform")
    assert_alerts_consistent(engine)


def test_missed_ticks_are_coalesced_into_one_run(tmp_path):
    """A worker frozen (SIGSTOP) for several collection intervals runs the missed collection once
    when it wakes, not once per missed interval."""
    api = ComplaintApi()
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    config_dir = radar_config(tmp_path / "config", [_source(api, interval_seconds=5)])
    worker = WorkerProcess(url, config_dir, tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: api.hits >= 2, 60, "two scheduled collections")
        worker.popen.send_signal(signal.SIGSTOP)
        time.sleep(1)
        frozen_at = api.hits
        time.sleep(26)  # five intervals missed
        worker.popen.send_signal(signal.SIGCONT)
        time.sleep(3.5)  # less than one interval after waking
        after_wake = api.hits - frozen_at
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.popen.send_signal(signal.SIGCONT)
            worker.kill()
        api.close()
    # One coalesced run for the five missed, plus at most the next regular one (the interval
    # grid may fall inside the 3.5 s); without coalescing five or six runs come in a burst.
    assert 1 <= after_wake <= 2, f"{after_wake} collections right after waking (5 were missed)"


def test_a_stopping_worker_does_not_wait_out_a_failing_source_s_retries(tmp_path):
    """SIGTERM while a source is between retries (minutes of back-off left): the worker ends
    at once instead of after the whole retry chain, and records why the fetch failed."""
    api = ComplaintApi()
    api.set_mode("500")
    retries = _source(api, max_attempts=8, backoff_seconds=20, max_backoff_seconds=60)
    config_dir = radar_config(tmp_path / "config", [retries])
    worker = WorkerProcess(f"sqlite:///{tmp_path / 'radar.db'}", config_dir, tmp_path / "w.log")
    try:
        worker.start()
        wait_for(lambda: api.hits >= 1, 60, "the first attempt")
        time.sleep(0.5)  # in the first 20 s back-off wait now
        worker.popen.terminate()
        worker.popen.wait(timeout=15)  # raises if the worker waits for further attempts
        assert worker.popen.returncode == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()
        api.close()
    assert api.hits == 1
    assert "after 1 attempts (the worker is stopping)" in worker.log_text()
