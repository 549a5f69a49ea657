"""HTTP for collectors: auth from the environment, timeouts, retries with backoff and Retry-After.

Retried: connection errors, timeouts, 5xx and 429. Other 4xx are the caller's mistake and fail
at once. Waits honour ``Retry-After`` (seconds or an HTTP date), capped by ``max_backoff_seconds``.
A stopping worker sets ``collectors.base.WORKER_STOPPING``: the waits end and no further
attempt is made, so it waits for one request's timeout at most instead of a source's whole
retry chain.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_when_event_set,
    wait_exponential,
)

from collectors.base import WORKER_STOPPING

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _Stopping(Exception):
    """The worker stopped during a wait between attempts: no further attempt."""


def sleep_unless_stopping(seconds: float) -> None:
    if WORKER_STOPPING.wait(seconds):
        raise _Stopping


class SourceUnavailable(RuntimeError):
    """The source kept failing after every retry; the runner records it and keeps the cursor."""


class RetryableStatus(Exception):
    """A 5xx or 429 answer that is worth another try."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url.host}")
        self.status_code = response.status_code
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After: delta seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError)


class HttpFetcher:
    """GETs JSON or bytes with the configured policy; ``sleep`` is injectable so tests can watch it."""

    def __init__(
        self, options: Any, sleep: Callable[[float], None] = sleep_unless_stopping
    ) -> None:
        self.options = options
        self.sleep = sleep
        self.waits: list[float] = []
        self._last_error: BaseException | None = None
        self._exponential = wait_exponential(
            multiplier=options.backoff_seconds, max=options.max_backoff_seconds
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, application/xml;q=0.9, */*;q=0.5"}
        headers.update(self.options.headers)
        if self.options.auth_env:
            token = os.environ.get(self.options.auth_env)
            if not token:
                raise SourceUnavailable(f"environment variable {self.options.auth_env} is not set")
            headers[self.options.auth_header] = token
        return headers

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            wait = min(exc.retry_after, self.options.max_backoff_seconds)
        else:
            wait = self._exponential(state)
        self.waits.append(wait)
        self._last_error = exc
        return wait

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """One GET with retries; raises ``SourceUnavailable`` after the last attempt."""
        retrying = Retrying(
            stop=stop_after_attempt(self.options.max_attempts)
            | stop_when_event_set(WORKER_STOPPING),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            sleep=self.sleep,
            reraise=True,
        )
        timeout = httpx.Timeout(self.options.timeout_seconds)
        tried = 0
        try:
            with httpx.Client(timeout=timeout, headers=self._headers()) as client:
                for attempt in retrying:
                    with attempt:
                        tried += 1
                        response = client.get(url, params=dict(params or {}))
                        if response.status_code in RETRY_STATUS:
                            raise RetryableStatus(response)
                        response.raise_for_status()
                        return response
        except (RetryableStatus, httpx.TransportError, _Stopping) as exc:
            if isinstance(exc, _Stopping):
                exc = self._last_error or exc
            stopping = " (the worker is stopping)" if WORKER_STOPPING.is_set() else ""
            raise SourceUnavailable(
                f"{type(exc).__name__} after {tried} attempts{stopping}: {exc}"
            ) from None
        except httpx.HTTPStatusError as exc:
            raise SourceUnavailable(
                f"HTTP {exc.response.status_code} from {exc.request.url.host}{exc.request.url.path}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get(url, params)
        try:
            return response.json()
        except RecursionError:  # Python's JSON parser recurses once per level of nesting
            raise SourceUnavailable(
                f"answer from {response.request.url.host} is nested too deeply to parse "
                f"(more than about {sys.getrecursionlimit()} levels)"
            ) from None
        except ValueError:
            raise SourceUnavailable(
                f"answer from {response.request.url.host} is not JSON "
                f"({response.headers.get('content-type', '?')})"
            ) from None
