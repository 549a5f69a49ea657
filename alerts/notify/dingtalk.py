"""DingTalk (钉钉) custom robot: signed markdown with @-mention by mobile. Limit 20 per minute.

Signing (加签): HMAC-SHA256 over ``f"{timestamp}\\n{secret}"`` keyed with the secret, timestamp in
milliseconds, base64 then URL-encoded, sent as ``timestamp`` and ``sign`` query parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from alerts.notify.channels import OutgoingMessage
from alerts.notify.http import env_value
from alerts.notify.message import render_markdown
from alerts.notify.robot import RobotNotifier
from config.models import DingTalkChannel

MARKDOWN_LIMIT = 20000  # bytes of the markdown text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded ``sign`` parameter for one timestamp."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with ``timestamp`` and ``sign`` appended."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


class DingTalkNotifier(RobotNotifier):
    config: DingTalkChannel
    rate_limit_codes = frozenset({130101})  # send too fast, exceed 20 times per minute
    # 310000: sign not match / keyword missing / IP not allowed; 300001: invalid access_token
    permanent_codes = frozenset({310000, 300001})

    def send(self, message: OutgoingMessage) -> None:
        url = env_value(self.config.url_env, "DingTalk robot URL")
        if self.config.secret_env:
            secret = env_value(self.config.secret_env, "DingTalk signing secret")
            url = signed_url(url, secret, int(time.time() * 1000))
        phone = "" if message.notice.resolved_only else message.recipient.phone  # no @ to recover
        # DingTalk shows the mention only when "@mobile" also appears in the text.
        text = render_markdown(message.notice, MARKDOWN_LIMIT, mention=f"@{phone}" if phone else "")
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.notice.title, "text": text},
            "at": {"atMobiles": [phone] if phone else [], "isAtAll": False},
        }
        self.post(url, body)
