"""Notification channel health from the outbox: a channel whose latest attempt failed is broken.

Before, a wrong robot secret showed only in the worker log and each alert's history; the wall's
banner and the 数据源 page now name the channel, from the same ``notifications`` table the
worker writes (the database stays the only contract between the two processes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage.models import Notification

COLUMNS = ["name", "status", "last_error", "last_sent_at", "sent_24h", "failed_24h"]
BAD = {"failed", "unknown"}


def channel_health(engine: Engine, since: datetime) -> pd.DataFrame:
    """One row per channel tried since ``since``: "failing" when its latest attempt did not go
    out (failed, unknown, or waiting to retry after an error), else "ok"."""
    query = (
        select(
            Notification.channel,
            Notification.status,
            Notification.last_error,
            Notification.sent_at,
        )
        .where(Notification.created_at >= since, Notification.attempts > 0)
        .order_by(Notification.id)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    latest: dict[str, dict] = {}
    for channel, status, error, sent_at in rows:
        entry = latest.setdefault(
            channel,
            {"name": channel, "last_sent_at": None, "sent_24h": 0, "failed_24h": 0},
        )
        failed = status in BAD or (status == "pending" and bool(error))
        entry["status"] = "failing" if failed else "ok"
        entry["last_error"] = error if failed else ""
        entry["sent_24h" if status == "sent" else "failed_24h"] += status == "sent" or failed
        if sent_at is not None:
            entry["last_sent_at"] = max(filter(None, [entry["last_sent_at"], sent_at]))
    return pd.DataFrame([latest[c] for c in sorted(latest)], columns=COLUMNS)


def failing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] == "failing"] if not frame.empty else frame


def failing_warnings(engine: Engine, now: datetime) -> list[str]:
    """check-config's words for channels whose latest send in the last 24 hours failed: a wrong
    secret validates fine as configuration, only the outbox shows it."""
    frame = failing(channel_health(engine, now - timedelta(hours=24)))
    return [
        f"channels.yaml: 渠道 {row.name} 最近一次发送失败：{row.last_error[:200]}"
        for row in cast("Iterable[Any]", frame.itertuples())
    ]
