"""When a failing send goes over to the channel's fallback, and what the fallback copy says.

A wrong secret or token never heals by waiting, so a permanent error falls back at once; a
throttled robot does heal, but a Ⅰ/Ⅱ page must not sit behind a ten-minute throttle, so it
falls back once its wait would pass ``SEVERE_RATE_LIMIT_WAIT`` after it was planned. The copy on
the fallback channel names the channel that failed, so people know where the page did not go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerts.notify.channels import PermanentError, RateLimited

SEVERE_RATE_LIMIT_WAIT = timedelta(minutes=2)
SEVERE = 2  # Ⅰ级 and Ⅱ级


def falls_back_now(
    error: Exception,
    attempts: int,
    fallback_after: int,
    severity: int | None,
    created_at: datetime,
    now: datetime,
) -> bool:
    """Whether a failed row goes to the fallback channel now (when the channel has one)."""
    if isinstance(error, RateLimited):
        ready = now + timedelta(seconds=max(error.retry_after, 1))
        severe = severity is not None and severity <= SEVERE
        return severe and ready - created_at > SEVERE_RATE_LIMIT_WAIT
    return isinstance(error, PermanentError) or attempts >= fallback_after


def failed_note(failed: str, fallback: str) -> str:
    return f"{failed} 发送失败，改由 {fallback} 发送"


def with_note(message: str, note: str) -> str:
    """``reason（note；note）``: the form the message builder splits into reason and notes."""
    if message.endswith("）") and "（" in message:
        return f"{message[:-1]}；{note}）"
    return f"{message}（{note}）"


def payload_with_note(payload: dict[str, Any] | None, note: str) -> dict[str, Any] | None:
    """A queued message (kind "message") carries its note in the payload."""
    if payload is None:
        return None
    old = payload.get("note", "")
    return {**payload, "note": f"{old}\n（{note}）" if old else f"（{note}）"}
