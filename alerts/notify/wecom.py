"""WeCom (企业微信) group robot: a markdown message (≤ 4096 bytes), then a short text message that
@-mentions the on-call person by mobile (markdown cannot mention by mobile). Limit 20 per minute."""

from __future__ import annotations

import logging

import httpx

from alerts.notify.channels import DeliveryError, OutgoingMessage, PermanentError, RateLimited
from alerts.notify.http import env_value, post_json
from alerts.notify.message import render_markdown
from alerts.notify.ratelimit import SlidingWindowLimiter
from config.models import WeComChannel

MARKDOWN_LIMIT = 4096
TEXT_LIMIT = 2048
RATE_LIMIT_CODES = {45009}  # api freq out of limit
PERMANENT_CODES = {93000, 40008}  # invalid webhook URL (key); invalid message type
log = logging.getLogger("radar.notify")


class WeComNotifier:
    supports_idempotency = False

    def __init__(
        self,
        config: WeComChannel,
        client: httpx.Client | None = None,
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.limiter = limiter or SlidingWindowLimiter([(20, 60.0)])

    def _post(self, url: str, body: dict) -> None:
        wait = self.limiter.acquire()
        if wait > 0:
            raise RateLimited(f"{self.name}: 20 messages per minute reached", retry_after=wait)
        reply = post_json(self.client, self.config, url, body)
        code = reply.get("errcode", 0)
        if code in RATE_LIMIT_CODES:
            raise RateLimited(f"{self.name}: errcode {code} {reply.get('errmsg', '')}"[:300])
        if code in PERMANENT_CODES:
            raise PermanentError(f"{self.name}: errcode {code} {reply.get('errmsg', '')}"[:300])
        if code != 0:
            raise DeliveryError(f"{self.name}: errcode {code} {reply.get('errmsg', '')}"[:300])

    def send(self, message: OutgoingMessage) -> None:
        url = env_value(self.config.url_env, "WeCom robot URL")
        content = render_markdown(message.notice, MARKDOWN_LIMIT)
        self._post(url, {"msgtype": "markdown", "markdown": {"content": content}})
        if not message.recipient.phone or message.notice.resolved_only:
            return  # a recovery asks nobody to act: no @
        text = f"请 {message.recipient.name} 处理：{message.notice.title}"
        mention = {
            "msgtype": "text",
            "text": {
                "content": text.encode()[:TEXT_LIMIT].decode(errors="ignore"),
                "mentioned_mobile_list": [message.recipient.phone],
            },
        }
        try:
            self._post(url, mention)
        except DeliveryError as exc:  # the alert itself went out; resending it would double it
            log.warning("%s: mention of %s failed: %s", self.name, message.recipient.id, exc)
