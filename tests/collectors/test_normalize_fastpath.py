"""The per-record fast paths of normalisation (clean ASCII shortcut, cached channels and regions,
number zones in masking) give exactly what the straightforward code gives, record for record."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.records import raw_records
from collectors import normalize as fast
from collectors import pii
from tests.collectors import reference_normalize as reference
from tests.collectors.test_normalize_properties import PRODUCTS, raw

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
# Pieces that make ID cards, bank cards, mobiles and near misses next to each other.
NUMBERS = st.lists(
    st.sampled_from(
        [
            "13812345678",
            "+86 138-1234-5678",
            "8613812345678",
            "11010119900101123X",
            "110101199001011234",
            "6222 0212 3456 7890 123",
            "6222-0212-3456-7890",
            "1",
            "12345",
            "０１２３４５６７８９",
            " ",
            "-",
            "+",
            "x",
            "X",
            "a",
            "中",
            "@",
            "li@example.com",
            "\n",
        ]
    ),
    max_size=12,
).map("".join)


def outcome(module, item):
    try:
        return module.normalize(item, "fuzz", NOW, PRODUCTS)
    except module.RecordRejected as exc:
        return ("rejected", str(exc))


@settings(max_examples=1500, deadline=None)
@given(NUMBERS | st.text(max_size=60))
def test_zone_masking_equals_the_four_passes(text):
    assert pii.mask_text(text) == reference.mask_text(text)


@settings(max_examples=600, deadline=None)
@given(raw)
def test_hostile_records_normalise_exactly_as_before(item):
    assert outcome(fast, item) == outcome(reference, item)


def test_benchmark_records_normalise_exactly_as_before():
    for record in raw_records(3000, seed=11):
        assert outcome(fast, record) == outcome(reference, record)
