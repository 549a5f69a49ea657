"""The states an alert and a notification pass through; stored as their string values."""

from __future__ import annotations

import enum


class AlertState(enum.StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ACTIVE_ALERT_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED)


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = (
        "sending"  # claimed and committed before the network call (see alerts/notify/delivery.py)
    )
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the worker died mid-send on a channel that cannot drop duplicates
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"  # no longer applied at send time (acknowledged or resolved meanwhile)
