"""WeCom (企业微信) group robot: a markdown message (≤ 4096 bytes), then a short text message that
@-mentions the on-call person by mobile (markdown cannot mention by mobile). Limit 20 per minute."""

from __future__ import annotations

import logging

from alerts.notify.channels import DeliveryError, OutgoingMessage
from alerts.notify.http import env_value
from alerts.notify.message import render_markdown
from alerts.notify.robot import RobotNotifier
from config.models import WeComChannel

MARKDOWN_LIMIT = 4096
TEXT_LIMIT = 2048
log = logging.getLogger("radar.notify")


class WeComNotifier(RobotNotifier):
    config: WeComChannel
    rate_limit_codes = frozenset({45009})  # api freq out of limit
    permanent_codes = frozenset({93000, 40008})  # invalid webhook URL (key); invalid message type

    def send(self, message: OutgoingMessage) -> None:
        url = env_value(self.config.url_env, "WeCom robot URL")
        content = render_markdown(message.notice, MARKDOWN_LIMIT)
        self.post(url, {"msgtype": "markdown", "markdown": {"content": content}})
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
            self.post(url, mention)
        except DeliveryError as exc:  # the alert itself went out; resending it would double it
            log.warning("%s: mention of %s failed: %s", self.name, message.recipient.id, exc)
