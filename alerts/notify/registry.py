"""Channel kind → class: the one line a new notification channel adds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts.notify.aliyun import AliyunSmsNotifier, AliyunVoiceNotifier
from alerts.notify.channels import Channel, LogNotifier
from alerts.notify.dingtalk import DingTalkNotifier
from alerts.notify.email import EmailNotifier
from alerts.notify.feishu import FeishuNotifier
from alerts.notify.tencent import TencentSmsNotifier
from alerts.notify.webhook import WebhookNotifier
from alerts.notify.wecom import WeComNotifier
from config.models import ChannelConfig

# Each class takes its own member of ChannelConfig; a dict cannot tie a kind to that member, so
# the parameter is Any here and build_channel is typed against the union.
CHANNEL_KINDS: dict[str, Callable[[Any], Channel]] = {
    "log": LogNotifier,
    "webhook": WebhookNotifier,
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
    "email": EmailNotifier,
    "aliyun_sms": AliyunSmsNotifier,
    "aliyun_voice": AliyunVoiceNotifier,
    "tencent_sms": TencentSmsNotifier,
}


def build_channel(config: ChannelConfig) -> Channel:
    """The channel object for one configured channel."""
    try:
        factory = CHANNEL_KINDS[config.kind]
    except KeyError:
        raise ValueError(f"no channel for kind {config.kind!r}") from None
    return factory(config)
