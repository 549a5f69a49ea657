"""Feishu (飞书) custom robot: signed rich-text ("post") message. Limits 100 per minute, 5 per second.

Signing (签名校验): HMAC-SHA256 keyed with ``f"{timestamp}\\n{secret}"`` over an EMPTY message,
timestamp in seconds, base64; ``timestamp`` and ``sign`` go in the JSON body. Rich-text "text"
elements are never parsed as markup, and mentions use the person's Feishu open id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

from alerts.notify.channels import DeliveryError, OutgoingMessage, PermanentError, RateLimited
from alerts.notify.http import env_value, post_json
from alerts.notify.message import render_text
from alerts.notify.ratelimit import SlidingWindowLimiter
from config.models import FeishuChannel

BODY_LIMIT = 20 * 1024  # bytes of the request body
RATE_LIMIT_CODES = {11232, 9499}  # frequency limited; too many requests
PERMANENT_CODES = {19021}  # sign match fail (wrong secret)


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The base64 ``sign`` for one timestamp."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _post_content(message: OutgoingMessage, text_limit: int) -> dict:
    """A "post" message: plain text lines (links stay plain, robots make URLs clickable)."""
    text = render_text(message.notice, text_limit)
    title, _, rest = text.partition("\n")
    lines: list[list[dict]] = [[{"tag": "text", "text": line}] for line in rest.split("\n")]
    if message.recipient.feishu_id and not message.notice.resolved_only:  # a recovery asks no one
        lines.append([{"tag": "at", "user_id": message.recipient.feishu_id}])
    return {"post": {"zh_cn": {"title": title, "content": lines}}}


class FeishuNotifier:
    supports_idempotency = False

    def __init__(
        self,
        config: FeishuChannel,
        client: httpx.Client | None = None,
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.limiter = limiter or SlidingWindowLimiter([(100, 60.0), (5, 1.0)])

    def body(self, message: OutgoingMessage, secret: str | None, timestamp_s: int) -> dict:
        """The request body, shrunk until it fits the platform's size limit."""
        limit = BODY_LIMIT - 1024
        while True:
            body: dict = {"msg_type": "post", "content": _post_content(message, limit)}
            if secret:
                body = {
                    "timestamp": str(timestamp_s),
                    "sign": feishu_sign(secret, timestamp_s),
                } | body
            if len(json.dumps(body, ensure_ascii=False).encode()) <= BODY_LIMIT or limit < 512:
                return body
            limit = limit * 3 // 4

    def send(self, message: OutgoingMessage) -> None:
        url = env_value(self.config.url_env, "Feishu robot URL")
        secret = (
            env_value(self.config.secret_env, "Feishu signing secret")
            if self.config.secret_env
            else None
        )
        wait = self.limiter.acquire()
        if wait > 0:
            raise RateLimited(f"{self.name}: Feishu rate limit reached", retry_after=wait)
        reply = post_json(
            self.client, self.config, url, self.body(message, secret, int(time.time()))
        )
        code = reply.get("code", reply.get("StatusCode", 0))
        if code in RATE_LIMIT_CODES:
            raise RateLimited(f"{self.name}: code {code} {reply.get('msg', '')}"[:300])
        if code in PERMANENT_CODES:
            raise PermanentError(f"{self.name}: code {code} {reply.get('msg', '')}"[:300])
        if code != 0:
            raise DeliveryError(f"{self.name}: code {code} {reply.get('msg', '')}"[:300])
