"""What the DingTalk, WeCom and Feishu group robots share: the constructor, the rate limit
before each request, and the reading of the code in the robot's JSON reply."""

from __future__ import annotations

from typing import Any

import httpx

from alerts.notify.channels import DeliveryError, PermanentError, RateLimited
from alerts.notify.http import post_json
from alerts.notify.ratelimit import SlidingWindowLimiter


class RobotNotifier:
    """A group robot webhook. Subclasses set the limits and reply codes, and write ``send``."""

    supports_idempotency = False
    limits: tuple[tuple[int, float], ...] = ((20, 60.0),)  # (requests, seconds)
    limit_reached = "20 messages per minute reached"
    code_field, text_field = "errcode", "errmsg"
    rate_limit_codes: frozenset[int] = frozenset()
    permanent_codes: frozenset[int] = frozenset()

    def __init__(
        self,
        config: Any,
        client: httpx.Client | None = None,
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.limiter = limiter or SlidingWindowLimiter(list(self.limits))

    def reply_code(self, reply: dict) -> Any:
        return reply.get(self.code_field, 0)

    def post(self, url: str, body: dict) -> None:
        """One request within the rate limit; a non-zero reply code raises by its kind."""
        wait = self.limiter.acquire()
        if wait > 0:
            raise RateLimited(f"{self.name}: {self.limit_reached}", retry_after=wait)
        reply = post_json(self.client, self.config, url, body)
        code = self.reply_code(reply)
        error = f"{self.name}: {self.code_field} {code} {reply.get(self.text_field, '')}"[:300]
        if code in self.rate_limit_codes:
            raise RateLimited(error)
        if code in self.permanent_codes:
            raise PermanentError(error)
        if code != 0:
            raise DeliveryError(error)
