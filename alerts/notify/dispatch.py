"""Plan notifications for alert changes and deliver them: the two calls the worker makes."""

from alerts.notify.delivery import backoff, deliver_due, recover_interrupted
from alerts.notify.planner import idempotency_key, plan

__all__ = ["backoff", "deliver_due", "idempotency_key", "plan", "recover_interrupted"]
