"""Hostile values for fuzzing the real parsers, and the "nothing lost" check on the database.

Shared by the CSV/Excel, JSON API and feed fuzz tests so that every parser meets the same
huge fields, wrong types, control characters, broken text and far-away dates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Complaint, QuarantinedRecord

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TEN_MB = 10 * 1024 * 1024

# Function-scoped fixtures (database, HTTP server) are shared by the examples of one test; every
# example uses its own source name, so its rows are counted apart from the others'.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
_names = itertools.count(1)


def source_name(prefix: str) -> str:
    """A fresh source name per example (valid under NAME_PATTERN)."""
    return f"{prefix}-{next(_names)}"


NASTY = [
    "",
    " ",
    "\u3000",
    "\x00",
    "a\x00b\x01c\x1f\x7f",
    "\ud800",
    "x\udfffy",
    "\ufeffBOM",
    "\u202e翻转",
    "😀🈲",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "'; DROP TABLE complaints; --",
    "**粗体** [链接](javascript:alert(1))",
    "客户电话13812345678 身份证110101199003071234",
    "6222020200112233445",
    "a@example.com",
    "null",
    "NaN",
    "-1e309",
    "广东省" * 300,
    "x" * 70_000,
]
TIMES = [
    "2026-11-23T09:15:00+08:00",
    "2026-11-23 09:20",
    "2026/11/23 09:15:00",
    "2026年11月23日 09时30分",
    "2026.11.22",
    "2026-11-22T20:00:00Z",
    "0001-01-01T00:00:00",
    "1900-01-01",
    "1999-12-31T23:59:59",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2100-01-01",
    "2026-13-45 99:99",
    "2026-02-30",
    "Mon, 23 Nov 2026 01:00:00 GMT",
    "1700000000",
    "yesterday",
]
CHANNELS = ["热线", "hotline", "APP", "官网", "微博", "12378", "传真", "Hotline ", "热 线"]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),
)
time_text = st.one_of(
    st.sampled_from(TIMES),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 11, 22)).map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    hostile_text,
)
channel_text = st.one_of(st.sampled_from(CHANNELS), hostile_text)
# Ids from a small pool so that duplicates inside a batch happen, plus hostile ones.
id_text = st.one_of(st.sampled_from(["T1", "T2", "T3", "13812345678"]), hostile_text)

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    time_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@dataclass(frozen=True)
class Stored:
    complaints: int
    quarantined: int
    empty_reasons: int


def stored(factory: sessionmaker[Session], source: str) -> Stored:
    """What the database holds for one source: complaints, quarantined rows, blank reasons."""
    with factory() as session:
        n_complaints = session.scalars(
            select(func.count()).select_from(Complaint).where(Complaint.source == source)
        ).one()
        reasons = list(
            session.scalars(
                select(QuarantinedRecord.reason).where(QuarantinedRecord.source == source)
            )
        )
    return Stored(n_complaints, len(reasons), sum(1 for r in reasons if not r.strip()))


def assert_accounted(factory: sessionmaker[Session], source: str, result, delivered: int) -> None:
    """Every delivered record is stored, a duplicate, or quarantined with a reason — nothing else."""
    assert result.error == "", result.error
    assert result.inserted + result.duplicates + result.quarantined == delivered, result
    held = stored(factory, source)
    assert (held.complaints, held.quarantined) == (result.inserted, result.quarantined)
    assert held.empty_reasons == 0
