"""Ride out a database outage: one log line per failed attempt, growing pauses, no tracebacks.

Every scheduled job of a worker goes through one shared ``DatabaseGuard``. When a job fails
because the database cannot be reached, all jobs pause (2 s, 4 s, 8 s … at most 30 s) and each
failed attempt is logged as one line with the reason; after a pause a ``SELECT 1`` probes the
database before any job runs (jobs that swallow their own errors, like collection, cannot say
whether it is back). Collection keeps its own cursor, so the backlog is fetched afterwards.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine, text
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger("radar.worker")
DATABASE_ERRORS = (OperationalError, InterfaceError)


def short_reason(exc: BaseException) -> str:
    """The first line of the driver's message: enough to act on, no SQL, no parameters."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [""])[0]
    return f"{type(inner).__name__}: {first}"[:300]


class DatabaseGuard:
    def __init__(
        self,
        engine: Engine,
        first: float = 2.0,
        cap: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.first, self.cap, self.clock = first, cap, clock
        self.failures = 0
        self.retry_at = 0.0
        self.lock = threading.Lock()

    def delay(self) -> float:
        return min(self.first * 2 ** max(self.failures - 1, 0), self.cap)

    def run(self, name: str, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``job`` unless pausing; a database outage is logged in one line, not raised."""
        with self.lock:
            if self.failures:
                if self.clock() < self.retry_at:
                    return None
                try:
                    with self.engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                except DATABASE_ERRORS as exc:
                    self._failed(name, exc)
                    return None
                log.warning("database available again after %d failed attempts", self.failures)
                self.failures = 0
        try:
            return job(*args, **kwargs)
        except DATABASE_ERRORS as exc:
            with self.lock:
                self._failed(name, exc)
            return None

    def _failed(self, name: str, exc: BaseException) -> None:
        self.failures += 1
        wait = self.delay()
        self.retry_at = self.clock() + wait
        log.warning(
            "数据库不可用 / database unavailable (%s, attempt %d): %s; next try in %.0f s",
            name, self.failures, short_reason(exc), wait,
        )  # fmt: skip

    def wrap(self, name: str, job: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(job)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self.run(name, job, *args, **kwargs)

        return guarded


def guard_jobs(scheduler: BaseScheduler, engine: Engine) -> DatabaseGuard:
    """Wrap every job added so far (before ``start``) in one shared guard."""
    guard = DatabaseGuard(engine)
    for job in scheduler.get_jobs():
        job.modify(func=guard.wrap(job.name, job.func))
    return guard
