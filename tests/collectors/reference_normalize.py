"""The normalisation as it was before the ingest fast paths: the reference they are compared to."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from collectors import pii
from collectors.pii import customer_key
from domain.products import ProductTable
from domain.records import NormalizedComplaint
from domain.vocabulary import normalise_channel, normalise_region

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_TEXT_CHARS = 20_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE_SKEW_SECONDS = 24 * 3600
LIMITS = {
    "external_id": 128,
    "product_code": 64,
    "product_name": 128,
    "product_line": 32,
    "region": 32,
    "category": 32,
    "event_tag": 64,
}
# Chinese exports write 2026年11月23日 10时03分 or 2026.11.23; fold them to ISO before parsing.
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_CJK_TIME = re.compile(r"(\d{1,2})\s*[时點点:]\s*(\d{1,2})\s*分?(?:\s*(\d{1,2})\s*秒?)?")
_DOTTED = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})")
_LOOSE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$")
# Control characters (NUL breaks PostgreSQL text) except tab and newlines; lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_IDENTITY_FIELDS = ("customer_id", "customer_phone")


class RecordRejected(ValueError):
    """The record goes to quarantine with this reason."""


def mask_text(text: str) -> str:
    """The plain four passes over the whole text."""
    if not text:
        return text
    text = pii.fold_text(text)
    text = pii._ID_CARD.sub(pii._keep_last4, text)
    text = pii._EMAIL.sub(pii._mask_email, text)
    text = pii._BANK_CARD.sub(pii._keep_last4, text)
    return pii._MOBILE.sub(pii._keep_last4, text)


def _iso_text(value: str) -> str:
    text = value.strip().replace("/", "-")
    text = _DOTTED.sub(r"\1-\2-\3", text)
    match = _CJK_DATE.search(text)
    if match:
        rest = text[match.end() :].strip()
        time_match = _CJK_TIME.search(rest)
        clock = ""
        if time_match:
            h, m, s = time_match.groups()
            clock = f" {int(h):02d}:{int(m):02d}:{int(s or 0):02d}"
        text = f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}{clock}"
    loose = _LOOSE.match(text)
    if loose:
        y, mo, d, h, mi, s = loose.groups()
        text = f"{y}-{int(mo):02d}-{int(d):02d}"
        if h is not None:
            text += f" {int(h):02d}:{int(mi):02d}:{int(s or 0):02d}"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return text


def parse_time(value: Any) -> datetime:
    """Parse an event time; naive values are Asia/Shanghai local time, as Chinese systems write them."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordRejected("missing received_at")
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:  # ISO text as most APIs send it parses as is; the rewriting is for everything else
            parsed = datetime.fromisoformat(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(_iso_text(value))
            except ValueError:
                raise RecordRejected(
                    f"unparseable received_at: {mask_text(value[:40])!r}"
                ) from None
    else:
        raise RecordRejected(f"unparseable received_at of type {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise RecordRejected(f"received_at out of range: {parsed.year}") from None


def clean_text(value: Any) -> str:
    """Text safe for every database: NFC, no control characters, no lone surrogates."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_label(value: Any, limit: int) -> str:
    """A short label: printable only, trimmed, masked (a phone typed into a region field stays hidden)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean_label_text(value, limit)
    return _clean_label_text(str(value), limit)


def _clean_label_text(value: str, limit: int) -> str:
    """Labels repeat (products, regions, categories): a pure function worth caching on ingest."""
    text = "".join(ch for ch in clean_text(value) if ch.isprintable()).strip()
    return mask_text(text[: limit * 4])[:limit]


def _safe_external_id(external_id: str) -> str:
    """An id that is itself personal data (a phone as ticket number) is replaced by a keyed hash."""
    if mask_text(external_id) == pii.fold_text(external_id):
        return external_id
    salt = os.environ.get("RADAR_PII_SALT", "complaint-radar-demo-salt").encode()
    return "pii-" + hmac.new(salt, external_id.encode(), hashlib.sha256).hexdigest()[:40]


def normalize(
    raw: Mapping[str, Any],
    source: str,
    now: datetime,
    products: ProductTable | None = None,
) -> NormalizedComplaint:
    """Validate and normalise; raise ``RecordRejected`` for anything that must be quarantined."""
    if not isinstance(raw, Mapping):
        raise RecordRejected(f"record is a {type(raw).__name__}, not an object")
    external_id = "".join(
        ch for ch in clean_text(raw.get("id") or raw.get("external_id")) if ch.isprintable()
    ).strip()
    if not external_id:
        raise RecordRejected("missing id")
    if len(external_id) > LIMITS["external_id"]:
        raise RecordRejected("id longer than 128 characters")
    received_at = parse_time(raw.get("received_at"))
    if received_at < EARLIEST:
        raise RecordRejected(f"received_at before 2000: {received_at.isoformat()}")
    if (received_at - now).total_seconds() > MAX_FUTURE_SKEW_SECONDS:
        raise RecordRejected(f"received_at in the future: {received_at.isoformat()}")
    channel = normalise_channel(clean_text(raw.get("channel")) if raw.get("channel") else None)
    if channel is None:
        raise RecordRejected(f"unknown channel: {clean_label(raw.get('channel'), 40)!r}")
    code = clean_label(raw.get("product_code"), LIMITS["product_code"])
    name = clean_label(raw.get("product_name"), LIMITS["product_name"])
    line = clean_label(raw.get("product_line"), LIMITS["product_line"])
    if products:
        code, name, line = products.resolve(code, name, line)
    if not code:
        code = name
    identity = next((raw.get(f) for f in _IDENTITY_FIELDS if raw.get(f)), None)
    return NormalizedComplaint(
        source=source,
        external_id=_safe_external_id(external_id),
        received_at=received_at,
        collected_at=now,
        channel=channel,
        product_code=code[: LIMITS["product_code"]],
        product_name=name[: LIMITS["product_name"]],
        product_line=line[: LIMITS["product_line"]],
        region=normalise_region(clean_label(raw.get("region"), 64))[: LIMITS["region"]],
        category=clean_label(raw.get("category"), LIMITS["category"]),
        event_tag=clean_label(raw.get("event_tag"), LIMITS["event_tag"]),
        text=mask_text(clean_text(raw.get("text"))[:MAX_TEXT_CHARS]),
        customer_key=customer_key(clean_text(identity) if identity is not None else None),
    )
