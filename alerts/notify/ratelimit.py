"""Sliding-window rate limits per channel, on an injectable clock so tests need not sleep.

Hand-written on purpose: the limit libraries read the wall clock themselves, and a robot's limit
is a few lines of bookkeeping (WeCom and DingTalk 20/min; Feishu 100/min and 5/s).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` events in any ``window`` seconds; several windows may stack."""

    def __init__(
        self, limits: list[tuple[int, float]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.events: deque[float] = deque()

    def wait_time(self) -> float:
        """Seconds until one more event is allowed (0 when allowed now)."""
        now = self.clock()
        longest = max((w for _, w in self.limits), default=0.0)
        while self.events and self.events[0] <= now - longest:
            self.events.popleft()
        wait = 0.0
        for limit, window in self.limits:
            recent = [t for t in self.events if t > now - window]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + window - now)
        return wait

    def acquire(self) -> float:
        """Record an event if allowed and return 0, else return the wait without recording."""
        wait = self.wait_time()
        if wait <= 0:
            self.events.append(self.clock())
        return wait
