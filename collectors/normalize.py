"""Turn one raw source record into a ``NormalizedComplaint`` or say why it cannot be stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from collectors.pii import current_salt, customer_key, fold_text, mask_text
from domain.calendar import DEFAULT_TIMEZONE
from domain.products import ProductTable
from domain.records import NormalizedComplaint
from domain.vocabulary import normalise_channel, normalise_region

# Offset-less times of a source read in its configured zone (config.sources.source_zone); this
# default, the product's own, is for callers that have no source configuration.
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
MAX_TEXT_CHARS = 20_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE_SKEW_SECONDS = 24 * 3600
_MAX_FUTURE_SKEW = timedelta(seconds=MAX_FUTURE_SKEW_SECONDS)
LIMITS = {
    "external_id": 128,
    "product_code": 64,
    "product_name": 128,
    "product_line": 32,
    "region": 32,
    "category": 32,
    "event_tag": 64,
    "branch": 64,
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


def parse_time(value: Any, zone: tzinfo = DEFAULT_ZONE) -> datetime:
    """Parse an event time into UTC. A value without an offset is local time in ``zone``, the
    source's configured zone: Chinese systems write Beijing time that way, a system abroad its own."""
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
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise RecordRejected(f"received_at out of range: {parsed.year}") from None


def clean_text(value: Any) -> str:
    """Text safe for every database: NFC, no control characters, no lone surrogates."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():  # the common case: already clean and NFC
        return text
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _printable_id(value: Any) -> str:
    """The cleaned id: printable characters only, trimmed."""
    text = clean_text(value)
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text.strip()


def clean_label(value: Any, limit: int) -> str:
    """A short label: printable only, trimmed, masked (a phone typed into a region field stays hidden)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean_label_text(value, limit)
    return _clean_label_text(str(value), limit)


@lru_cache(maxsize=65_536)
def _clean_label_text(value: str, limit: int) -> str:
    """Labels repeat (products, regions, categories): a pure function worth caching on ingest."""
    text = "".join(ch for ch in clean_text(value) if ch.isprintable()).strip()
    return mask_text(text[: limit * 4])[:limit]


def _safe_external_id(external_id: str) -> str:
    """An id that is itself personal data (a phone as ticket number) is replaced by a keyed hash."""
    if mask_text(external_id) == fold_text(external_id):
        return external_id
    salt = current_salt().encode()
    return "pii-" + hmac.new(salt, external_id.encode(), hashlib.sha256).hexdigest()[:40]


def normalize(
    raw: Mapping[str, Any],
    source: str,
    now: datetime,
    products: ProductTable | None = None,
    salt: str | None = None,
    zone: tzinfo = DEFAULT_ZONE,
) -> NormalizedComplaint:
    """Validate and normalise; raise ``RecordRejected`` for anything that must be quarantined.

    ``salt`` keys the customer hash (default: ``RADAR_PII_SALT``, read on every call); ``zone``
    is the source's zone for times written without an offset.
    """
    if not isinstance(raw, Mapping):
        raise RecordRejected(f"record is a {type(raw).__name__}, not an object")
    get = raw.get
    external_id = _printable_id(get("id") or get("external_id"))
    if not external_id:
        raise RecordRejected("missing id")
    if len(external_id) > LIMITS["external_id"]:
        raise RecordRejected("id longer than 128 characters")
    received_at = parse_time(get("received_at"), zone)
    if received_at < EARLIEST:
        raise RecordRejected(f"received_at before 2000: {received_at.isoformat()}")
    if received_at > now + _MAX_FUTURE_SKEW:
        raise RecordRejected(f"received_at in the future: {received_at.isoformat()}")
    channel_label = get("channel")
    channel = _channel(channel_label) if channel_label else None
    if channel is None:
        raise RecordRejected(f"unknown channel: {clean_label(channel_label, 40)!r}")
    code = clean_label(get("product_code"), LIMITS["product_code"])
    name = clean_label(get("product_name"), LIMITS["product_name"])
    line = clean_label(get("product_line"), LIMITS["product_line"])
    if products:
        code, name, line = products.resolve(code, name, line)
    if not code:  # a product the alias table does not know yet: keyed by its name meanwhile,
        code = name  # so that product rules still see it
    identity = get("customer_id") or get("customer_phone") or None
    return NormalizedComplaint(
        source,
        _safe_external_id(external_id),
        received_at,
        now,
        channel,
        code[: LIMITS["product_code"]],
        name[: LIMITS["product_name"]],
        line[: LIMITS["product_line"]],
        _region(get("region")),
        clean_label(get("category"), LIMITS["category"]),
        clean_label(get("event_tag"), LIMITS["event_tag"]),
        mask_text(clean_text(get("text"))[:MAX_TEXT_CHARS]),
        customer_key(clean_text(identity) if identity is not None else None, salt),
        clean_label(get("branch"), LIMITS["branch"]),
    )


def _channel(value: Any) -> str | None:
    if isinstance(value, str):
        return _channel_text(value)
    return normalise_channel(clean_text(value))


@lru_cache(maxsize=4096)
def _channel_text(value: str) -> str | None:
    """Channel labels are a handful of strings: normalise each once."""
    return normalise_channel(clean_text(value))


def _region(value: Any) -> str:
    if isinstance(value, str):
        return _region_text(value)
    return normalise_region(clean_label(value, 64))[: LIMITS["region"]]


@lru_cache(maxsize=4096)
def _region_text(value: str) -> str:
    """Regions are a few dozen spellings: normalise each once."""
    return normalise_region(clean_label(value, 64))[: LIMITS["region"]]
