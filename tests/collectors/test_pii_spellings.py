"""Identifiers in the spellings people really type are masked, and keyed as one customer.

Issue 19 item 3: full-width digits, dots, zero-width characters, 15-digit ID cards and a
full-width ``＠`` passed through unmasked before masking folded the text first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import pii
from collectors.normalize import normalize

MOBILE = "13812345678"
FULL_WIDTH = str.maketrans("0123456789@.-+ ", "０１２３４５６７８９＠．－＋\u3000")
MATH_BOLD = str.maketrans("0123456789", "".join(chr(0x1D7CE + d) for d in range(10)))

MOBILE_SPELLINGS = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "138.1234.5678",
    "1381-234-5678",
    "1 3 8 1 2 3 4 5 6 7 8",
    "+86 138 1234 5678",
    "+86-13812345678",
    "0086 13812345678",
    "８６１３８１２３４５６７８",
    "１３８１２３４５６７８",
    "１３８－１２３４－５６７８",
    "１３８．１２３４．５６７８",
    "１３８\u3000１２３４\u3000５６７８",
    "138\u200b1234\u200b5678",
    "138\u202e1234\u202c5678",
    "138\xa01234\xa05678",
    "１38１２34５678",
    "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖",
    "١٣٨١٢٣٤٥٦٧٨",
]
ID_SPELLINGS = [
    "110101199003071234",
    "11010119900307123X",
    "11010119900307123x",
    "110101 19900307 1234",
    "110101-19900307-123X",
    "１１０１０１１９９００３０７１２３Ｘ",
    "110101900307123",
    "１１０１０１９００３０７１２３",
    "4403019001011230",  # not an ID: a 16-digit card
]
CARD_SPELLINGS = [
    "6222021234567890123",
    "6222 0212 3456 7890",
    "６２２２ ０２１２ ３４５６ ７８９０",
]
EMAIL_SPELLINGS = [
    "li.lei@example.com",
    "li.lei＠example.com",
    "ｌｉ．ｌｅｉ＠ｅｘａｍｐｌｅ．ｃｏｍ",
]
CONTEXTS = ["{}", "电话{}，", "我的手机号是：{}。", "（{}）", "a{}b", "号码:{}请回电"]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", pii.fold_text(text))


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("spelling", MOBILE_SPELLINGS + ID_SPELLINGS + CARD_SPELLINGS)
def test_every_spelling_of_a_number_is_masked(spelling, context):
    masked = pii.mask_text(context.format(spelling))
    whole = _digits(spelling)
    assert whole not in _digits(masked)
    assert whole[:7] not in re.sub(r"\D", "", masked), masked
    assert whole[-4:] in re.sub(r"\D", "", masked)  # the last four stay for the handler


@pytest.mark.parametrize("spelling", EMAIL_SPELLINGS)
def test_every_spelling_of_an_email_is_masked(spelling):
    masked = pii.mask_text(f"邮箱 {spelling} 谢谢")
    assert "lei" not in masked and "ｌｅｉ" not in masked
    assert "example.com" in masked


@pytest.mark.parametrize("spelling", MOBILE_SPELLINGS)
def test_every_spelling_of_a_mobile_gives_the_same_customer_key(spelling):
    assert pii.customer_key(spelling) == pii.customer_key(MOBILE)


def test_chinese_punctuation_and_ordinary_numbers_are_kept():
    text = "保险期间2026.01.01-2026.12.31，金额1,234.56元（已付）：请处理！"
    assert pii.mask_text(text) == text


def test_a_full_width_phone_as_ticket_id_is_not_stored():
    record = {
        "id": "１３８１２３４５６７８",
        "received_at": "2026-11-20 10:00",
        "channel": "hotline",
        "text": "客户电话１３８．１２３４．５６７８，邮箱 wang＠example.com",
        "customer_phone": "１３８ １２３４ ５６７８",
    }
    complaint = normalize(record, "hotline", datetime(2026, 11, 21, tzinfo=UTC))
    assert "5678" not in complaint.external_id and "５６７８" not in complaint.external_id
    assert "1234" not in _digits(complaint.text) and "wang" not in complaint.text
    assert complaint.customer_key == pii.customer_key(MOBILE)


@st.composite
def spelled_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """A mobile with any mix of full-width digits, separators and invisible characters."""
    digits = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    out = []
    for i, digit in enumerate(digits):
        if draw(st.booleans()):
            digit = digit.translate(FULL_WIDTH)
        out.append(digit)
        if i < 10 and draw(st.integers(0, 5)) == 0:
            out.append(
                draw(st.sampled_from([" ", "-", ".", "\u3000", "－", "．", "\u200b", "\xa0"]))
            )
    return draw(st.sampled_from(CONTEXTS)), "".join(out)


@settings(max_examples=1500, deadline=None)
@given(spelled_mobiles())
def test_property_any_spelled_mobile_is_masked_and_keyed_alike(spelled):
    context, number = spelled
    text = context.format(number)
    masked = pii.mask_text(text)
    digits = _digits(text)
    found = re.search(r"1[3-9]\d{9}", digits)
    assert found is not None, digits
    mobile = found.group(0)
    assert mobile not in _digits(masked)
    assert pii.mask_text(masked) == masked  # masking is idempotent
    assert pii.customer_key(number) == pii.customer_key(mobile)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=60) | st.text(alphabet="0123456789１３８ .-\u200b中@＠", max_size=40))
def test_property_masking_is_idempotent_and_leaves_no_bare_mobile(text):
    masked = pii.mask_text(text)
    assert pii.mask_text(masked) == masked
    assert re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", pii.fold_text(masked)) is None
