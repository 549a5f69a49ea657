"""Channel kind → class: the one line a new notification channel adds."""

from __future__ import annotations

from alerts.notify.aliyun import AliyunSmsNotifier, AliyunVoiceNotifier
from alerts.notify.channels import Channel, LogNotifier
from alerts.notify.dingtalk import DingTalkNotifier
from alerts.notify.email import EmailNotifier
from alerts.notify.feishu import FeishuNotifier
from alerts.notify.tencent import TencentSmsNotifier
from alerts.notify.webhook import WebhookNotifier
from alerts.notify.wecom import WeComNotifier
from config.models import ChannelConfig


def build_channel(config: ChannelConfig) -> Channel:
    """The channel object for one configured channel."""
    kinds: dict[str, type] = {
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
    return kinds[config.kind](config)
