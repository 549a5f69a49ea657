"""The states an alert and a notification pass through, and the kinds of an alert's audit events;
stored as their string values."""

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


class EventKind(enum.StrEnum):
    """What an ``AlertEvent`` row says happened; stored as the value."""

    # the alert's state changed
    CREATED = "created"
    FIRED = "fired"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    # in the alert's state
    UPDATED = "updated"
    SEVERITY_RAISED = "severity_raised"
    LINKED = "linked"
    ESCALATE_NOW = "escalate_now"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"  # message: the new owner's roster id
    RESPONDER_ADDED = "responder_added"  # message: the added person's roster id
    # notes
    NOTE = "note"
    SILENCED = "silenced"
    INHIBITED = "inhibited"
    NOTIFIED = "notified"
    NOTIFY_FAILED = "notify_failed"
    NOTIFY_UNKNOWN = "notify_unknown"
    NOTIFY_FALLBACK = "notify_fallback"
    NOTIFY_CANCELLED = "notify_cancelled"
    NOTIFY_SUPPRESSED = "notify_suppressed"
    ESCALATION_GAP = "escalation_gap"
