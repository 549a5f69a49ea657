"""Models for channels.yaml: notifier channels; secrets are environment variable names, never values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from config.base import NAME_PATTERN, EnvVarName, StrictModel, require_unique


class ChannelBase(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    enabled: bool = True
    fallback: str | None = Field(
        default=None, description="Channel used once this one has failed fallback_after times."
    )
    fallback_after: int = Field(default=3, ge=1, le=20)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=3, ge=1, le=10, description="Tries per send for transient errors.")
    retry_wait_seconds: float = Field(default=1.0, ge=0, le=60)


class LogChannel(ChannelBase):
    """Writes notifications to the worker log; the always-available fallback."""

    kind: Literal["log"]


class WebhookChannel(ChannelBase):
    """POSTs a JSON document; the URL (which may embed a token) comes from an environment variable."""

    kind: Literal["webhook"]
    url_env: EnvVarName


class WeComChannel(ChannelBase):
    """WeCom (企业微信) group robot; the webhook URL with its key comes from ``url_env``."""

    kind: Literal["wecom"]
    url_env: EnvVarName


class DingTalkChannel(ChannelBase):
    """DingTalk (钉钉) custom robot with signing; URL (with access_token) and secret from the environment."""

    kind: Literal["dingtalk"]
    url_env: EnvVarName
    secret_env: EnvVarName | None = None


class FeishuChannel(ChannelBase):
    """Feishu (飞书) custom robot with signing; URL and secret from the environment."""

    kind: Literal["feishu"]
    url_env: EnvVarName
    secret_env: EnvVarName | None = None


class EmailChannel(ChannelBase):
    """Email over SMTP (STARTTLS, SSL or plain on a trusted relay), HTML with a text part."""

    kind: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: EnvVarName | None = None
    from_addr: str
    to: list[str] = Field(default_factory=list, description="Always copied, besides the person.")
    timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) to trust instead of the system ones (internal mail servers).",
    )

    @model_validator(mode="after")
    def _usable_ca_file(self) -> EmailChannel:
        if self.ca_file is None:
            return self
        if self.security == "none":
            raise ValueError("ca_file needs security starttls or ssl (it verifies the server)")
        if not self.ca_file.is_file():
            raise ValueError(f"ca_file {str(self.ca_file)!r} is not a readable file")
        return self


class AliyunSmsChannel(ChannelBase):
    """Alibaba Cloud SMS (阿里云短信服务 SendSms): a signed request with an approved template, to
    the person's mobile. The template gets ``level``, ``what`` and ``count`` (each ≤ 35 chars)."""

    kind: Literal["aliyun_sms"]
    access_key_id_env: EnvVarName
    access_key_secret_env: EnvVarName
    sign_name: str = Field(min_length=1, description="The approved SMS signature (签名).")
    template_code: str = Field(min_length=1, description="The approved template, e.g. SMS_1234.")
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    region_id: str = "cn-hangzhou"
    per_number_per_minute: int = Field(default=1, ge=1, le=60)
    per_number_per_hour: int = Field(default=5, ge=1, le=1000)


class AliyunVoiceChannel(ChannelBase):
    """Alibaba Cloud voice notification (语音服务 SingleCallByTts): the phone rings and reads an
    approved text-to-speech template with ``level``, ``what`` and ``count``."""

    kind: Literal["aliyun_voice"]
    access_key_id_env: EnvVarName
    access_key_secret_env: EnvVarName
    called_show_number: str = Field(min_length=1, description="The number the call comes from.")
    tts_code: str = Field(min_length=1, description="The approved TTS template, e.g. TTS_1234.")
    play_times: int = Field(default=2, ge=1, le=3)
    endpoint: str = "https://dyvmsapi.aliyuncs.com/"
    region_id: str = "cn-hangzhou"
    per_number_per_minute: int = Field(default=1, ge=1, le=60)
    per_number_per_hour: int = Field(default=5, ge=1, le=1000)


class TencentSmsChannel(ChannelBase):
    """Tencent Cloud SMS (腾讯云短信 SendSms, API 3.0 with TC3-HMAC-SHA256): a signed request
    with an approved template to the person's mobile. The template's variables are positional:
    {1} level, {2} what, {3} count, each at most ``variable_limit`` characters (the console shows
    the account's limit: 6 or 12 for personal accounts, none for verified companies)."""

    kind: Literal["tencent_sms"]
    secret_id_env: EnvVarName
    secret_key_env: EnvVarName
    sdk_app_id: str = Field(pattern=r"^\d{6,12}$", description="The SmsSdkAppId, e.g. 1400006666.")
    sign_name: str = Field(min_length=1, description="The approved SMS signature (签名).")
    template_id: str = Field(pattern=r"^\d{1,12}$", description="The approved template's id.")
    endpoint: str = "https://sms.tencentcloudapi.com/"
    region: str = "ap-guangzhou"
    variable_limit: int = Field(default=12, ge=4, le=200)
    ack_template_id: str | None = Field(
        default=None,
        pattern=r"^\d{1,12}$",
        description="A template with a fourth variable, the reply code (回复 {4} 确认): pages "
        "that can be acknowledged use it, and the worker pulls replies (PullSmsReplyStatus).",
    )
    per_number_per_30_seconds: int = Field(default=1, ge=1, le=30)
    per_number_per_hour: int = Field(default=5, ge=1, le=1000)


ChannelConfig = Annotated[
    LogChannel
    | WebhookChannel
    | WeComChannel
    | DingTalkChannel
    | FeishuChannel
    | EmailChannel
    | AliyunSmsChannel
    | AliyunVoiceChannel
    | TencentSmsChannel,
    Field(discriminator="kind"),
]


class ChannelsFile(StrictModel):
    channels: list[ChannelConfig] = Field(default_factory=list)
    default_channel: str | None = None

    @model_validator(mode="after")
    def _references_exist(self) -> ChannelsFile:
        names = [c.name for c in self.channels]
        require_unique(names, "channel")
        if self.default_channel and self.default_channel not in names:
            raise ValueError(f"default_channel {self.default_channel!r} is not a declared channel")
        fallbacks = {c.name: c.fallback for c in self.channels}
        for name, fallback in fallbacks.items():
            if fallback and fallback not in names:
                raise ValueError(
                    f"channel {name!r}: fallback {fallback!r} is not a declared channel"
                )
            seen = {name}
            while fallback:  # a fallback chain must end, or a failing send would loop forever
                if fallback in seen:
                    raise ValueError(f"channel {name!r}: fallback chain loops back to {fallback!r}")
                seen.add(fallback)
                fallback = fallbacks.get(fallback)
        return self

    def get(self, name: str) -> ChannelConfig | None:
        """The channel called ``name`` (None when not declared)."""
        return next((c for c in self.channels if c.name == name), None)
