"""Tencent Cloud SMS (腾讯云短信, API 3.0 SendSms): a text to the person on call, beside the
Alibaba Cloud channels, for insurers whose SMS contract is with Tencent.

Signing (TC3-HMAC-SHA256, "签名方法 v3"): the canonical request is method, ``/``, an empty query,
the canonical headers ``content-type`` and ``host`` (lower-case names, each line ending in a line
break), the signed header names, and the hex SHA-256 of the JSON body; the string to sign is the
algorithm, the timestamp, the credential scope ``<UTC date>/sms/tc3_request`` and the hex SHA-256
of the canonical request; the key is derived as HMAC chain ``"TC3" + SecretKey`` → date →
service → ``tc3_request``. The platform refuses a timestamp more than five minutes off.

Tencent limits each number (by default one message per 30 seconds and five per hour); our own
limiter holds a message back instead of burning the quota, and ``LimitExceeded.*`` is a rate
limit too. A wrong key or signature, an unapproved template or sign, a bad parameter are
permanent: the fallback takes the page at once. The platform does not drop repeats, so a timeout
is an unknown outcome, never resent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session

from alerts.notify.aliyun import template_params
from alerts.notify.channels import DeliveryError, OutgoingMessage, PermanentError, RateLimited
from alerts.notify.http import env_value, request_json
from alerts.notify.ratelimit import SlidingWindowLimiter
from alerts.notify.reply_codes import Reply, assign_code
from config.models import TencentSmsChannel
from storage.models import Notification

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
RATE_LIMIT_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded")
PERMANENT_PREFIXES = (
    "AuthFailure.",
    "UnauthorizedOperation.",
    "InvalidParameter",
    "MissingParameter",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.PhoneNumberInBlacklist",
    "UnsupportedOperation.",
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(secret_key: str, timestamp: int, host: str, payload: bytes) -> str:
    """The hex signature of a JSON POST to ``/`` of ``host`` at ``timestamp`` (Unix seconds)."""
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            SIGNED_HEADERS,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    return tc3_sign_canonical(secret_key, timestamp, SERVICE, canonical)


def tc3_sign_canonical(secret_key: str, timestamp: int, service: str, canonical: str) -> str:
    """The hex signature of a canonical request (split out so the documented example checks it)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def e164(phone: str) -> str:
    """Roster numbers are 11-digit mainland mobiles; Tencent wants ``+86…`` (E.164)."""
    digits = phone.strip().replace(" ", "").replace("-", "")
    return digits if digits.startswith("+") else f"+86{digits}"


def classify(code: str, text: str) -> DeliveryError:
    """The error class for one of Tencent's error codes (see the module docstring)."""
    if code.startswith(RATE_LIMIT_PREFIXES):
        hourly = "Hour" in code or "Daily" in code
        return RateLimited(text, retry_after=3600 if hourly else 30)
    if code.startswith(PERMANENT_PREFIXES):
        return PermanentError(text)
    return DeliveryError(text)


class TencentSmsNotifier:
    """SendSms with the template's positional variables, per-number limits held back here."""

    supports_idempotency = False

    def __init__(self, config: TencentSmsChannel, client: httpx.Client | None = None) -> None:
        self.name = config.name
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.limiters: dict[str, SlidingWindowLimiter] = {}

    def _limiter(self, phone: str) -> SlidingWindowLimiter:
        limits = [
            (self.config.per_number_per_30_seconds, 30.0),
            (self.config.per_number_per_hour, 3600.0),
        ]
        return self.limiters.setdefault(phone, SlidingWindowLimiter(limits))

    def template_values(self, message: OutgoingMessage) -> list[str]:
        values = template_params(message, self.config.variable_limit)
        found = [values["level"], values["what"], values["count"]]
        return [*found, message.reply_code] if message.reply_code else found

    def prepare(
        self, session: Session, rows: list[Notification], message: OutgoingMessage, now: datetime
    ) -> OutgoingMessage:
        """With an acknowledgement template, a page that can be acknowledged gets a reply code,
        stored with the claim before the request leaves."""
        if not self.config.ack_template_id or not message.recipient.phone:
            return message
        return replace(message, reply_code=assign_code(session, self.name, rows, message, now))

    def pull_replies(self) -> list[Reply]:
        """Texts phones sent back (PullSmsReplyStatus): the platform hands each out once."""
        body = {"Limit": 100, "SmsSdkAppId": self.config.sdk_app_id}
        response = self.call("PullSmsReplyStatus", body)
        replies = []
        for item in response.get("PullSmsReplyStatusSet") or []:
            if not isinstance(item, dict) or not str(item.get("ReplyUnixTime", "")).isdigit():
                continue
            at = datetime.fromtimestamp(int(item["ReplyUnixTime"]), UTC)
            content = str(item.get("ReplyContent", ""))[:200]
            replies.append(Reply(str(item.get("PhoneNumber", "")), content, at))
        return replies

    def call(self, action: str, body: dict) -> dict:
        """One signed API call; returns ``Response`` or raises the classified error."""
        secret_id = env_value(self.config.secret_id_env, "Tencent Cloud SecretId")
        secret_key = env_value(self.config.secret_key_env, "Tencent Cloud SecretKey")
        payload = json.dumps(body, ensure_ascii=False).encode()
        host = urlsplit(self.config.endpoint).netloc
        timestamp = int(datetime.now(UTC).timestamp())
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        signature = tc3_signature(secret_key, timestamp, host, payload)
        headers = {
            "Authorization": f"{ALGORITHM} Credential={secret_id}/{date}/{SERVICE}/tc3_request, "
            f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": self.config.region,
        }
        reply = request_json(
            self.client,
            self.config,
            "POST",
            self.config.endpoint,
            content=payload,
            headers=headers,
            code_keys=("Response",),
        )
        response = reply.get("Response")
        if not isinstance(response, dict):
            raise DeliveryError(f"{self.name}: {action} answered without Response")
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            raise classify(code, f"{self.name}: {code} {error.get('Message', '')}"[:300])
        return response

    def send(self, message: OutgoingMessage) -> None:
        phone = message.recipient.phone
        if not phone:
            raise PermanentError(f"{self.name}: {message.recipient.id} has no mobile number")
        wait = self._limiter(phone).acquire()
        if wait > 0:
            raise RateLimited(f"{self.name}: per-number limit reached", retry_after=wait)
        body = {
            "PhoneNumberSet": [e164(phone)],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": (
                self.config.ack_template_id if message.reply_code else self.config.template_id
            ),
            "TemplateParamSet": self.template_values(message),
            "SessionContext": message.idempotency_key[:200],
        }
        response = self.call("SendSms", body)
        statuses = response.get("SendStatusSet") or [{}]
        status = statuses[0] if isinstance(statuses[0], dict) else {}
        code = str(status.get("Code", ""))
        if code == "Ok":
            return
        raise classify(
            code, f"{self.name}: {code or '无发送状态'} {status.get('Message', '')}"[:300]
        )
