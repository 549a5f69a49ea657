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
from typing import Any

from alerts.notify.channels import OutgoingMessage
from alerts.notify.http import env_value
from alerts.notify.message import render_text
from alerts.notify.robot import RobotNotifier
from config.models import FeishuChannel

BODY_LIMIT = 20 * 1024  # bytes of the request body


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


class FeishuNotifier(RobotNotifier):
    config: FeishuChannel
    limits = ((100, 60.0), (5, 1.0))
    limit_reached = "Feishu rate limit reached"
    code_field, text_field = "code", "msg"
    rate_limit_codes = frozenset({11232, 9499})  # frequency limited; too many requests
    permanent_codes = frozenset({19021})  # sign match fail (wrong secret)

    def reply_code(self, reply: dict) -> Any:
        return reply.get("code", reply.get("StatusCode", 0))

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
        self.post(url, self.body(message, secret, int(time.time())))
