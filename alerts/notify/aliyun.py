"""Alibaba Cloud SMS (阿里云短信服务, SendSms) and voice notification (语音服务,
SingleCallByTts): a text or a ringing phone for the person on call, for robots and e-mail do
not wake a phone on silent.

Signing (RPC signature version 1.0): the parameters sorted by name, each name and value
percent-encoded (RFC 3986: space %20, ``*`` %2A, ``~`` kept), joined with ``&``; the string to
sign is ``GET&%2F&`` + the encoded query; the signature is base64(HMAC-SHA1(secret + "&")).
Aliyun limits each number (by default 1 per minute, 5 per hour); our own limiter holds a message
back instead of burning the quota, and ``isv.BUSINESS_LIMIT_CONTROL`` is a rate limit too.
The platform does not drop repeats, so a timeout is an unknown outcome, never resent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from alerts.notify.channels import DeliveryError, OutgoingMessage, PermanentError, RateLimited
from alerts.notify.http import env_value, request_json
from alerts.notify.message import plain
from alerts.notify.ratelimit import SlidingWindowLimiter
from config.models import AliyunSmsChannel, AliyunVoiceChannel
from domain.severity import SEVERITY_LABELS

RATE_LIMIT_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling"}
PERMANENT_CODES = {
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId.NotFound",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.TTS_TEMPLATE_ILLEGAL",
    "isv.CALLED_SHOW_NUMBER_ILLEGAL",
}
VARIABLE_LIMIT = 35  # characters per template variable


def percent(text: str) -> str:
    return quote(text, safe="~")


def aliyun_signature(secret: str, params: dict[str, str], method: str = "GET") -> str:
    """The ``Signature`` parameter for a request with these parameters (without Signature)."""
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent('/')}&{percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def template_params(message: OutgoingMessage, limit: int = VARIABLE_LIMIT) -> dict[str, str]:
    """What the template shows: severity, what (the most severe alert, inert) and how many,
    each at most ``limit`` characters."""
    items = message.notice.items
    if not items:
        return {"level": "通知", "what": plain(message.notice.title, limit), "count": "0"}
    worst = min(items, key=lambda i: (i.severity, i.alert_id))
    level = SEVERITY_LABELS.get(worst.severity, str(worst.severity)).split()[0]
    if all(i.state == "resolved" for i in items):
        level = "已恢复"
    return {
        "level": level[:limit],
        "what": plain(worst.title, limit),
        "count": str(len(items)),
    }


class AliyunNotifier:
    """What SMS and voice share: keys from the environment, per-number limits, the signed GET
    and the reply codes. Subclasses name the action and its own parameters."""

    supports_idempotency = False
    action = ""
    version = "2017-05-25"

    def __init__(
        self, config: AliyunSmsChannel | AliyunVoiceChannel, client: httpx.Client | None = None
    ) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.limiters: dict[str, SlidingWindowLimiter] = {}

    def _limiter(self, phone: str) -> SlidingWindowLimiter:
        limits = [
            (self.config.per_number_per_minute, 60.0),
            (self.config.per_number_per_hour, 3600.0),
        ]
        return self.limiters.setdefault(phone, SlidingWindowLimiter(limits))

    def action_params(self, phone: str, message: OutgoingMessage) -> dict[str, str]:
        raise NotImplementedError

    def send(self, message: OutgoingMessage) -> None:
        phone = message.recipient.phone
        if not phone:
            raise PermanentError(f"{self.name}: {message.recipient.id} has no mobile number")
        key_id = env_value(self.config.access_key_id_env, "Aliyun AccessKey ID")
        secret = env_value(self.config.access_key_secret_env, "Aliyun AccessKey secret")
        wait = self._limiter(phone).acquire()
        if wait > 0:
            raise RateLimited(f"{self.name}: per-number limit reached", retry_after=wait)
        params = {
            "AccessKeyId": key_id,
            "Action": self.action,
            "Format": "JSON",
            "OutId": message.idempotency_key[:64],
            "RegionId": self.config.region_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.version,
            **self.action_params(phone, message),
        }
        params["Signature"] = aliyun_signature(secret, params)
        reply = request_json(
            self.client,
            self.config,
            "GET",
            self.config.endpoint,
            params=params,
            code_keys=("Code",),
        )
        code = str(reply.get("Code", ""))
        if code == "OK":
            return
        text = f"{self.name}: {code} {reply.get('Message', '')}"[:300]
        if code in RATE_LIMIT_CODES:
            raise RateLimited(text, retry_after=60)
        if code in PERMANENT_CODES:
            raise PermanentError(text)
        raise DeliveryError(text)


class AliyunSmsNotifier(AliyunNotifier):
    config: AliyunSmsChannel
    action = "SendSms"

    def action_params(self, phone: str, message: OutgoingMessage) -> dict[str, str]:
        return {
            "PhoneNumbers": phone,
            "SignName": self.config.sign_name,
            "TemplateCode": self.config.template_code,
            "TemplateParam": json.dumps(template_params(message), ensure_ascii=False),
        }


class AliyunVoiceNotifier(AliyunNotifier):
    """A phone call that reads the TTS template: the one channel that wakes a phone on silent."""

    config: AliyunVoiceChannel
    action = "SingleCallByTts"

    def action_params(self, phone: str, message: OutgoingMessage) -> dict[str, str]:
        return {
            "CalledNumber": phone,
            "CalledShowNumber": self.config.called_show_number,
            "TtsCode": self.config.tts_code,
            "TtsParam": json.dumps(template_params(message), ensure_ascii=False),
            "PlayTimes": str(self.config.play_times),
        }
