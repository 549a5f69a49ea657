"""The worker's database guard: one line per failed attempt, growing pauses, a probe before resuming."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from worker.dbguard import DatabaseGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_guard_pauses_with_backoff_and_probes_before_resuming(tmp_path, caplog):
    down = create_engine(f"sqlite:///{tmp_path}/missing/dir/radar.db")  # cannot be opened
    clock = Clock()
    guard = DatabaseGuard(down, first=2, cap=8, clock=clock)
    calls: list[float] = []

    def job() -> str:
        calls.append(clock.now)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused\nmore detail"))
        return "done"

    with caplog.at_level(logging.WARNING, logger="radar.worker"):
        assert guard.run("collect", job) is None  # failure 1: pause 2 s
        assert guard.run("collect", job) is None and calls == [0.0]  # paused: not even tried
        pauses = []
        for _ in range(4):  # each probe fails while the database is down: 4 s, 8 s, 8 s …
            clock.now = guard.retry_at
            assert guard.run("collect", job) is None
            pauses.append(guard.retry_at - clock.now)
        assert calls == [0.0] and pauses == [4, 8, 8, 8]
        guard.engine = create_engine(f"sqlite:///{tmp_path}/radar.db")  # the database is back
        clock.now = guard.retry_at
        assert guard.run("collect", job) == "done"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 6 and all("\n" not in line for line in lines), lines
    assert (
        "database unavailable (collect, attempt 1)" in lines[0] and "connection refused" in lines[0]
    )
    assert "available again after 5 failed attempts" in lines[-1]
    assert guard.failures == 0
