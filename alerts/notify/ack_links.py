"""One-click acknowledge links: signed (HMAC-SHA256), expiring, bound to one alert and one receiver.

The secret comes from ``RADAR_ACK_SECRET``; the dashboard verifies the token before acting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from config.secrets import DEMO_ACK_SECRET

DEFAULT_TTL = timedelta(hours=24)
_DEV_SECRET = DEMO_ACK_SECRET


class InvalidAckToken(ValueError):
    """The link was tampered with, has expired, or is malformed."""


@dataclass(frozen=True)
class AckClaim:
    alert_id: int
    receiver: str
    expires_at: datetime


def _secret() -> bytes:
    return os.environ.get("RADAR_ACK_SECRET", _DEV_SECRET).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_ack_token(
    alert_id: int, receiver: str, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> str:
    payload = {"a": alert_id, "r": receiver, "e": int((now + ttl).timestamp())}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signature = _b64(hmac.new(_secret(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def verify_ack_token(token: str, now: datetime) -> AckClaim:
    """Return the claim, or raise ``InvalidAckToken`` (never says which part was wrong)."""
    try:
        body, signature = token.split(".", 1)
        expected = _b64(hmac.new(_secret(), body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            raise InvalidAckToken("invalid acknowledge link")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claim = AckClaim(
            alert_id=int(payload["a"]),
            receiver=str(payload["r"]),
            expires_at=datetime.fromtimestamp(int(payload["e"]), UTC),
        )
    except InvalidAckToken:
        raise
    except (ValueError, KeyError, TypeError):
        raise InvalidAckToken("invalid acknowledge link") from None
    if now >= claim.expires_at:
        raise InvalidAckToken("acknowledge link has expired")
    return claim


def ack_url(dashboard_url: str, alert_id: int, receiver: str, now: datetime) -> str:
    """The dashboard's alert console with the token; opening it acknowledges the alert."""
    token = sign_ack_token(alert_id, receiver, now)
    return f"{dashboard_url.rstrip('/')}/alerts?ack={quote(token)}"
