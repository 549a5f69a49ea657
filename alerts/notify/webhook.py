"""Generic JSON webhook: the structured alerts plus ready texts, with an Idempotency-Key header."""

from __future__ import annotations

import httpx

from alerts.notify.channels import OutgoingMessage
from alerts.notify.http import env_value, post_json
from alerts.notify.message import render_text
from config.models import WebhookChannel


class WebhookNotifier:
    supports_idempotency = True  # receivers are asked to drop a repeated Idempotency-Key

    def __init__(self, config: WebhookChannel, client: httpx.Client | None = None) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)

    def send(self, message: OutgoingMessage) -> None:
        url = env_value(self.config.url_env, "webhook URL")
        body = {
            "idempotency_key": message.idempotency_key,
            "title": message.notice.title,
            "text": render_text(message.notice, 16000),
            "receiver": {"id": message.recipient.id, "name": message.recipient.name},
            "alerts": message.alerts,
        }
        post_json(self.client, self.config, url, body, {"Idempotency-Key": message.idempotency_key})
