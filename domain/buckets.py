"""Counts are kept in 5-minute buckets aligned in UTC; rules and storage must agree on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BUCKET = timedelta(minutes=5)


def bucket_start(moment: datetime) -> datetime:
    """The start of the 5-minute bucket holding ``moment`` (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
