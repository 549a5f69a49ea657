"""Source and worker health: a stale source or a silent worker must be impossible to miss."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

SourceStatus = Literal["ok", "failing", "stale", "never"]


def source_status(
    last_success_at: datetime | None,
    consecutive_failures: int,
    now: datetime,
    stale_after: timedelta,
) -> SourceStatus:
    """never ran, stale (no success for ``stale_after``), failing (last runs failed) or ok."""
    if last_success_at is None:
        return "never"
    if now - last_success_at > stale_after:
        return "stale"
    if consecutive_failures > 0:
        return "failing"
    return "ok"


def lag_minutes(last_received_at: datetime | None, now: datetime) -> float | None:
    """How far behind the newest complaint from a source is (event time), in minutes."""
    if last_received_at is None:
        return None
    return round(max(0.0, (now - last_received_at).total_seconds() / 60), 1)


# A worker whose last heartbeat is older than this has stopped (it beats every few seconds).
WORKER_ALIVE_WITHIN = timedelta(minutes=2)


def worker_alive(
    beat_at: datetime | None, now: datetime, within: timedelta = WORKER_ALIVE_WITHIN
) -> bool:
    return beat_at is not None and now - beat_at <= within
