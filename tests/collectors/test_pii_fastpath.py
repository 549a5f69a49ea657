"""The ingest fast paths (skip patterns that cannot match, cached labels, keyed-hash copy) change
nothing: every result equals the plain four-pass masking and a fresh HMAC per key."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import pii
from collectors.normalize import clean_label, parse_time

TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789１２ -+@._xX中a\t\u3000\xa0＠．\u200b")), max_size=40
)


def four_passes(text: str) -> str:
    if not text:
        return text
    text = pii.fold_text(text)
    text = pii._ID_CARD.sub(pii._keep_last4, text)
    text = pii._EMAIL.sub(pii._mask_email, text)
    text = pii._BANK_CARD.sub(pii._keep_last4, text)
    return pii._MOBILE.sub(pii._keep_last4, text)


def fresh_key(identifier: str) -> str:
    normalised = re.sub(r"[\s\-+.()（）]", "", pii.fold_text(identifier)).upper()
    if normalised.startswith("0086") and len(normalised) == 15:
        normalised = normalised[2:]
    if normalised.startswith("86") and len(normalised) == 13:
        normalised = normalised[2:]
    salt = os.environ.get("RADAR_PII_SALT", pii._DEFAULT_SALT).encode()
    digest = hmac.new(salt, normalised.encode(), hashlib.sha256).hexdigest()[:32]
    return hashlib.pbkdf2_hmac("sha256", digest.encode(), salt, pii.KEY_STRETCH_ROUNDS, 16).hex()


@settings(max_examples=3000, deadline=None)
@given(TEXT | st.text(max_size=30))
def test_masking_equals_the_four_passes(text):
    assert pii.mask_text(text) == four_passes(text)


@st.composite
def long_numbers(draw) -> str:
    """11 to 19 digits, grouped by a separator or not, sometimes ending in X, in some context:
    where the ID card, bank card and mobile patterns start and stop matching."""
    digits = draw(st.text(alphabet="0123456789", min_size=11, max_size=19))
    separator = draw(st.sampled_from(["", " ", "-"]))
    every = draw(st.integers(3, 6))
    number = separator.join(digits[i : i + every] for i in range(0, len(digits), every))
    if draw(st.booleans()):
        number = number[:-1] + "X"
    before = draw(st.sampled_from(["", "卡号", "a", "1 ", "+86 "]))
    return before + number + draw(st.sampled_from(["", "。", "x", " 2", "-"]))


@settings(max_examples=3000, deadline=None)
@given(long_numbers())
def test_masking_long_numbers_equals_the_four_passes(text):
    assert pii.mask_text(text) == four_passes(text)


def test_sixteen_and_seventeen_digit_cards_are_masked():
    assert pii.mask_text("卡号6222021234567890。") == "卡号************7890。"
    assert pii.mask_text("卡号62220212345678901") == "卡号*************8901"


@settings(max_examples=2000, deadline=None)
@given(TEXT | st.text(max_size=30))
def test_customer_key_equals_a_fresh_stretched_hmac(identifier):
    assert pii.customer_key(identifier) == (fresh_key(identifier) if identifier else "")


def test_examples_still_masked_and_keyed_the_same(monkeypatch):
    monkeypatch.delenv("RADAR_PII_SALT", raising=False)
    text = "电话 138-1234-5678，卡号 6222 0212 3456 7890 123，邮箱 li.lei@example.com"
    assert pii.mask_text(text) == four_passes(text)
    assert "5678" in pii.mask_text(text) and "1234-5678" not in pii.mask_text(text)
    assert pii.customer_key("+86 138 1234 5678") == pii.customer_key("13812345678")
    default_key = pii.customer_key("13812345678")
    monkeypatch.setenv("RADAR_PII_SALT", "another-salt")
    assert pii.customer_key("13812345678") == fresh_key("13812345678") != default_key


def test_cached_label_and_iso_fast_path_keep_behaviour():
    assert clean_label("客户13812345678", 32) == "客户*******5678"
    assert clean_label(12345, 32) == "12345"
    assert clean_label("广东\x00省", 32) == "广东省"
    iso = parse_time("2026-11-20 11:09:11")
    assert iso == parse_time("2026/11/20 11:09:11") == parse_time("2026年11月20日 11时09分11秒")
    assert iso is not None and iso.utcoffset() == timedelta(0) and iso.hour == 3  # Shanghai → UTC
