"""Failed password sign-ins: logged, and throttled per user name and per client address.

Without a limit, anyone on the office network can guess passwords as fast as bcrypt allows.
Counts live in the dashboard process (every session shares them); after ``max_failures``
failures of one name, or ``max_address_failures`` from one address (higher: behind a proxy many
people share one), within ``window_seconds`` further attempts are refused until the oldest
failure leaves the window, without the password being checked. A refused name can be locked out by someone else
guessing it: the window is short, and each refusal is in the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from config.logsafe import escape_controls

log = logging.getLogger("radar.signin")


class SignInThrottle:
    def __init__(
        self,
        max_failures: int = 5,
        max_address_failures: int = 20,
        window_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": max_failures, "addr": max_address_failures}
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait_seconds(self, username: str, address: str) -> float:
        """0 when a sign-in may be tried now, else how long until it may."""
        now = self.clock()
        with self._lock:
            waits = []
            for key in (f"user:{username.lower()}", f"addr:{address}"):
                times = self._recent(key, now)
                if len(times) >= self.limits[key.split(":", 1)[0]]:
                    waits.append(times[0] + self.window - now)
            return max(waits, default=0.0)

    def failed(self, username: str, address: str) -> None:
        """Record and log one failed attempt (the name is escaped: it is typed by anyone)."""
        now = self.clock()
        with self._lock:
            for key in (f"user:{username.lower()}", f"addr:{address}"):
                self._recent(key, now).append(now)
        log.warning(
            "failed sign-in for '%s' from %s",
            escape_controls(username[:64]),
            escape_controls(address),
        )

    def refused(self, username: str, address: str, wait: float) -> None:
        log.warning(
            "sign-in for '%s' from %s refused: too many failures, %.0fs left",
            escape_controls(username[:64]),
            escape_controls(address),
            wait,
        )

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


THROTTLE = SignInThrottle()  # one per dashboard process, shared by every session
