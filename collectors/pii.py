"""Personal data masking (PIPL): raw identifiers never reach the database or the logs."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
import unicodedata
from functools import lru_cache

from config.secrets import DEMO_PII_SALT

# Order matters: an 18-character ID card number also looks like a bank card or contains a mobile.
# 18-digit cards (birth year 19xx/20xx, check digit or X) and the older 15-digit cards (YYMMDD).
_ID_CARD = re.compile(
    r"(?<!\d)[1-9]\d{5}(?:"
    r"[ -]?(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}[ -]?\d{3}[\dXx]"
    r"|\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
    r")(?!\d)"
)
_BANK_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
# Mobiles in any grouping people type: 138 1234 5678, 1381-234-5678, 138.1234.5678, +86/0086.
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[ .-]?)?1[ .-]?[3-9](?:[ .-]?\d){9}(?!\d)")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)

_DEFAULT_SALT = DEMO_PII_SALT
# PBKDF2 rounds of the customer key (~60 µs here). Changing it changes every key: it needs a
# migration like 0013, so it is a constant, not a setting.
KEY_STRETCH_ROUNDS = 200
# Every ID card, bank card and mobile pattern needs 11+ digits with at most single separators:
# one cheap search skips the three patterns for the many texts without such a number.
_LONG_NUMBER = re.compile(r"\d(?:[ .-]?\d){10}")
_IDENTIFIER_NOISE = str.maketrans("", "", " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-+.()")
# The characters a number pattern can match (with Unicode digits): see _mask_number_zones.
_ZONE_CHARS = frozenset("Xx+ -.")
_ZONE = re.compile(r"[\dXx+ .\-]*")
# Characters removed before matching: zero-width and bidi controls hide nothing from a reader
# but split a number so that no pattern sees it.
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# What NFKC may fold to, one character for one: the characters the patterns are written in.
_FOLD_TARGETS = frozenset("0123456789@.+-_% ") | frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_NON_DIGIT = re.compile(r"\D")


def _keep_last4(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = found if found.isdigit() else (_NON_DIGIT.sub("", found) or found)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def _mask_email(match: re.Match[str]) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


@lru_cache(maxsize=1)
def _fold_table() -> tuple[dict[int, int | None], re.Pattern[str]]:
    """NFKC restricted to what identifiers are written in (built once, on the first non-ASCII text).

    Full NFKC would also turn Chinese punctuation (，：（）) into ASCII and change every stored
    text; folding only the characters whose NFKC form is one digit, Latin letter, ``@ . + - _ %``
    or space (full-width １３８, ＠, ．, mathematical and circled digits, Unicode spaces), plus any
    other decimal digit, makes every spelling of a number match while Chinese text stays as typed.
    """
    table: dict[int, int | None] = {}
    for code in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if len(folded) == 1 and folded in _FOLD_TARGETS:
            table[code] = ord(folded)
        elif unicodedata.category(char) == "Nd":
            table[code] = ord(str(unicodedata.decimal(char)))
    invisible = re.compile(f"[{_INVISIBLE}]")
    for code in range(0x80, 0x10000):
        if invisible.match(chr(code)):
            table[code] = None
    # The BMP part as ranges plus every astral character as one range: the astral characters one
    # by one make re fall back to a slow range list (14x); the rare astral text is just folded.
    bmp = _ranges(sorted(c for c in table if c <= 0xFFFF))
    return table, re.compile(f"[{bmp}\U00010000-\U0010ffff]")


def _ranges(codes: list[int]) -> str:
    """A character class body of contiguous ranges (thousands of single characters are slow)."""
    parts, start, end = [], codes[0], codes[0]
    for code in [*codes[1:], -1]:
        if code == end + 1:
            end = code
            continue
        parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(end)) if end > start else ""))
        start = end = code
    return "".join(parts)


def fold_text(text: str) -> str:
    """The text with identifier characters folded to ASCII and invisible characters removed."""
    if not text or text.isascii():
        return text
    table, foldable = _fold_table()
    if foldable.search(text) is None:
        return text
    return text.translate(table)


def mask_text(text: str) -> str:
    """Mask ID cards, bank cards and mobiles keeping the last 4 digits; emails keep the domain.

    The text is folded first (see ``fold_text``): ``１３８１２３４５６７８`` and ``138\u200b1234\u200b5678``
    are the same number to a reader and must be to the patterns.
    """
    if not text:
        return text
    text = fold_text(text)
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
        zone = _ZONE.match(text, match.end())
        assert zone is not None  # _ZONE also matches the empty string
        end = zone.end()
        left = 1 if start > 0 else 0
        right = 1 if end < len(text) else 0
        window = text[start - left : end + right]
        # An ID card has 15 or 18 characters, a bank card 16+ digits: a mobile's zone is shorter.
        if end - start >= 15 and _zone_digits(text, start, end) >= 15:
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
    """A keyed, stretched hash of a customer identifier (phone, ID card, account).

    It links one person's complaints. Keyed by ``RADAR_PII_SALT`` so that a leaked database
    alone cannot be reversed; stretched (``stretch_key``) so that with the key too, searching
    the mobile number space costs days of CPU instead of an hour.
    """
    if not identifier:
        return ""
    key = salt if salt is not None else current_salt()
    return stretch_key(keyed_digest(normalise_identifier(str(identifier)), key), key)


def keyed_digest(normalised: str, salt: str) -> str:
    """The plain HMAC: the customer key of releases before the stretch (see ``stretch_key``)."""
    mac = _keyed_hmac(salt).copy()
    mac.update(normalised.encode())
    return mac.hexdigest()[:32]


def stretch_key(digest: str, salt: str) -> str:
    """PBKDF2 over the HMAC digest rather than over the identifier.

    Stored keys hold the HMAC digest of databases made before the stretch; stretching the
    digest lets migration 0013 turn them into today's keys without the raw identifiers, which
    were never stored. ``KEY_STRETCH_ROUNDS`` is bounded by ingest: each complaint pays it once.
    """
    return hashlib.pbkdf2_hmac(
        "sha256", digest.encode(), salt.encode(), KEY_STRETCH_ROUNDS, 16
    ).hex()


def normalise_identifier(identifier: str) -> str:
    """One spelling per identifier: folded (NFKC digits), without separators, upper case, no +86.

    The full-width spelling of a phone must give the same customer key as the ASCII one, or
    repeat and multi-channel detection misses the person.
    """
    normalised = fold_text(identifier).translate(_IDENTIFIER_NOISE)
    if not normalised.isascii():  # other Unicode spaces: the general (slower) rule
        normalised = re.sub(r"[\s\-+.()（）]", "", normalised)
    normalised = normalised.upper()
    if normalised.startswith("0086") and len(normalised) == 15:
        normalised = normalised[2:]
    if normalised.startswith("86") and len(normalised) == 13:
        normalised = normalised[2:]
    return normalised
