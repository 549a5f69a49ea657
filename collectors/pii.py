"""Personal data masking (PIPL): raw identifiers never reach the database or the logs."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import lru_cache

# Order matters: an 18-character ID card number also looks like a bank card or contains a mobile.
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])"
)
_BANK_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)

_DEFAULT_SALT = "complaint-radar-demo-salt"
# Every ID card, bank card and mobile pattern needs 11+ digits with at most single separators:
# one cheap search skips the three patterns for the many texts without such a number.
_LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){10}")
_IDENTIFIER_NOISE = str.maketrans("", "", " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-+")
# The characters a number pattern can match (with Unicode digits): see _mask_number_zones.
_ZONE_CHARS = frozenset("Xx+ -")
_ZONE = re.compile(r"[\dXx+ \-]*")
_NON_DIGIT = re.compile(r"\D")


def _keep_last4(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = found if found.isdigit() else (_NON_DIGIT.sub("", found) or found)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def _mask_email(match: re.Match[str]) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Mask ID cards, bank cards and mobiles keeping the last 4 digits; emails keep the domain."""
    if not text:
        return text
    first_number = _LONG_NUMBER.search(text)
    if "@" in text:  # the e-mail pass runs between the number passes: the plain four passes
        if first_number is None:
            return _EMAIL.sub(_mask_email, text)
        text = _ID_CARD.sub(_keep_last4, text)
        text = _EMAIL.sub(_mask_email, text)
        text = _BANK_CARD.sub(_keep_last4, text)
        return _MOBILE.sub(_keep_last4, text)
    if first_number is None:
        return text
    return _mask_number_zones(text, first_number)


def _in_zone(ch: str) -> bool:
    return ch.isdecimal() or ch in _ZONE_CHARS  # str.isdecimal is exactly re's Unicode \d


def _mask_number_zones(text: str, match: re.Match[str] | None) -> str:
    """The three number passes, run only on the stretches that can hold a number.

    Every ID card, bank card and mobile match consists of digits, spaces, ``-``, ``+``, ``X``
    and ``x`` only, and its lookarounds see one character either side. So each maximal run of
    those characters that holds an 11-digit number (a "zone") is masked on its own, with its two
    neighbours as context, and gives exactly what the passes over the whole text give. Text
    between zones is copied untouched instead of being scanned three more times.
    """
    pieces: list[str] = []
    done = 0
    while match is not None:
        start = match.start()
        while start > done and _in_zone(text[start - 1]):
            start -= 1
        end = _ZONE.match(text, match.end()).end()
        left = 1 if start > 0 else 0
        right = 1 if end < len(text) else 0
        window = text[start - left : end + right]
        # An ID card has 18 characters, a bank card 16+ digits: a mobile's zone is shorter.
        if end - start >= 16 and _zone_digits(text, start, end) >= 16:
            window = _ID_CARD.sub(_keep_last4, window)
            window = _BANK_CARD.sub(_keep_last4, window)
        window = _MOBILE.sub(_keep_last4, window)
        pieces.append(text[done:start])
        pieces.append(window[left : len(window) - right])  # the context is never part of a match
        done = end
        match = _LONG_NUMBER.search(text, end)
    pieces.append(text[done:])
    return "".join(pieces)


def _zone_digits(text: str, start: int, end: int) -> int:
    """Digits in a zone: its length less its separators and X (an upper bound is enough)."""
    return (end - start) - sum(text.count(ch, start, end) for ch in _ZONE_CHARS)


@lru_cache(maxsize=8)
def _keyed_hmac(salt: str) -> hmac.HMAC:
    """The keyed state once per salt; each key copies it instead of re-keying (ingest hot path)."""
    return hmac.new(salt.encode(), digestmod=hashlib.sha256)


def current_salt() -> str:
    """The key for customer hashes (read per page by ingest, not per record)."""
    return os.environ.get("RADAR_PII_SALT", _DEFAULT_SALT)


def customer_key(identifier: str | None, salt: str | None = None) -> str:
    """A keyed hash of a customer identifier (phone, ID card, account) to link one person's complaints.

    The key comes from ``RADAR_PII_SALT`` so that a leaked database cannot be reversed by
    hashing every phone number.
    """
    if not identifier:
        return ""
    normalised = str(identifier).translate(_IDENTIFIER_NOISE)
    if not normalised.isascii():  # other Unicode spaces: the general (slower) rule
        normalised = re.sub(r"[\s\-+]", "", normalised)
    normalised = normalised.upper()
    if normalised.startswith("86") and len(normalised) == 13:
        normalised = normalised[2:]
    mac = _keyed_hmac(salt if salt is not None else current_salt()).copy()
    mac.update(normalised.encode())
    return mac.hexdigest()[:32]
