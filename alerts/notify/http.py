"""POST JSON to a robot or webhook with quick retries (tenacity) for failures that never reached it.

Only errors where the request surely did not land (connection refused, connect timeout, 502-504)
are retried at once. An error after the request was written (read timeout, connection dropped
while waiting for the answer) is ``OutcomeUnknown``: the robot may have posted it, so it is never
retried here. Anything else goes back to the dispatcher, which retries later with backoff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from alerts.notify.channels import (
    DeliveryError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from config.channels import ChannelBase

T = TypeVar("T")


def env_value(name: str | None, what: str) -> str:
    """A secret from the environment, or a clear error naming the variable (never its value)."""
    value = os.environ.get(name or "", "") if name else ""
    if not value:
        raise PermanentError(f"environment variable {name} ({what}) is not set")
    return value


def quick_retries(config: ChannelBase) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Retry a send on TransientError with exponential backoff, as configured for the channel."""
    return retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(config.retries),
        wait=wait_exponential(multiplier=config.retry_wait_seconds, max=30),
        reraise=True,
    )


def post_json(
    client: httpx.Client,
    config: ChannelBase,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST and return the JSON reply ({} when the reply is not JSON); raises DeliveryError kinds."""
    return request_json(client, config, "POST", url, json=body, headers=headers)


def request_json(
    client: httpx.Client,
    config: ChannelBase,
    method: str,
    url: str,
    *,
    json: dict[str, Any] | None = None,
    content: bytes | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    code_keys: tuple[str, ...] = ("code", "errcode"),
) -> dict[str, Any]:
    """One request with the error classes above; a reply carrying one of ``code_keys`` is the
    platform's own verdict (even with HTTP 4xx) and is returned for the channel to read."""

    @quick_retries(config)
    def once() -> dict[str, Any]:
        try:
            response = client.request(
                method, url, json=json, content=content, params=params, headers=headers or {}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(f"{config.name}: {type(exc).__name__}") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError) as exc:
            raise OutcomeUnknown(
                f"{config.name}: {type(exc).__name__}，请求已发出，结果未知"
            ) from None
        except httpx.RemoteProtocolError as exc:  # e.g. disconnected before the answer
            raise OutcomeUnknown(
                f"{config.name}: {type(exc).__name__}，请求已发出，结果未知"
            ) from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{config.name}: {type(exc).__name__}") from None
        if response.status_code == 429:
            raise RateLimited(f"{config.name}: HTTP 429", retry_after=60)
        if response.status_code in (502, 503, 504):
            raise TransientError(f"{config.name}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        if response.status_code >= 300 and not (set(code_keys) & data.keys()):
            if 400 <= response.status_code < 500:  # wrong URL or token: no retry fixes it
                raise PermanentError(f"{config.name}: HTTP {response.status_code}")
            raise DeliveryError(f"{config.name}: HTTP {response.status_code}")
        return data

    return once()
