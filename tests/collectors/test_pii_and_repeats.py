"""PIPL: seeded personal data never reaches any table; repeat and multi-channel marking."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select, text

from collectors.base import Batch
from collectors.runner import collect_once
from tests.collectors.helpers import NOW, complaints

PHONE, PHONE2 = "13812345678", "+86 139-8765-4321"
ID_CARD = "44010619900307123X"
BANK_CARD = "6222 0212 3456 7890 128"
EMAIL = "zhang.san@example.com"
RAW_VALUES = [PHONE, "13987654321", ID_CARD, "6222021234567890128", BANK_CARD, EMAIL, "zhang.san"]


class ListSource:
    """A source that delivers fixed records: the runner under test does everything else."""

    def __init__(self, records: list) -> None:
        self.records = records

    def fetch(self, cursor: str, now: datetime) -> Batch:
        return Batch(records=self.records, cursor="done")


def seeded_records() -> list[dict]:
    text_with_pii = (
        f"电话{PHONE}，身份证{ID_CARD}，卡号{BANK_CARD}，邮箱{EMAIL}，另一个号码{PHONE2}"
    )
    good = {
        "id": "ok-1",
        "received_at": "2026-11-23 09:00",
        "channel": "hotline",
        "text": text_with_pii,
        "region": f"广东 {PHONE}",
        "category": EMAIL,
        "customer_phone": PHONE,
    }
    bad_time = {**good, "id": "bad-1", "received_at": f"not a time {PHONE}"}
    bad_channel = {**good, "id": "bad-2", "channel": f"渠道{ID_CARD}"}
    id_is_phone = {**good, "id": PHONE}
    return [good, bad_time, bad_channel, id_is_phone, {"id": ID_CARD, "customer_id": ID_CARD}]


def test_no_raw_personal_data_in_any_table_or_log(factory, engine, caplog):
    caplog.set_level(logging.DEBUG)
    result = collect_once(factory, "pii", "test", ListSource(seeded_records()), NOW)
    assert (result.inserted, result.quarantined) == (2, 3)
    dump = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    everything = "\n".join(dump) + caplog.text
    for raw in RAW_VALUES:
        assert raw not in everything, raw
    (first, second) = complaints(factory, "pii")
    assert "5678" in first.text and "***" in first.text and first.customer_key
    assert second.external_id.startswith("pii-")


def test_repeat_and_multichannel_marked_at_ingest(factory):
    base = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)

    def rec(
        i: str, days: float, channel: str, product: str = "CAR-001", phone: str = PHONE
    ) -> dict:
        at = (base + timedelta(days=days)).isoformat()
        return {
            "id": i,
            "received_at": at,
            "channel": channel,
            "product_code": product,
            "customer_phone": phone,
        }

    collect_once(
        factory,
        "s",
        "test",
        ListSource(
            [
                rec("a", 0, "hotline"),
                rec("b", 10, "hotline"),  # repeat of a
                rec("c", 50, "hotline"),  # more than 30 days after b: not a repeat
                rec("d", 0, "hotline", product="HLT-001"),  # other product
                rec("e", 0, "hotline", phone="13900000000"),  # other person
            ]
        ),
        NOW,
    )
    flags = {c.external_id: (c.is_repeat, c.is_multichannel) for c in complaints(factory, "s")}
    assert flags == {
        "a": (False, False),
        "b": (True, False),
        "c": (False, False),
        "d": (False, False),
        "e": (False, False),
    }
    # Later, the same person complains on social media about the matter of a and b, and a late
    # record (received before c) arrives from the web form.
    collect_once(
        factory, "s2", "test", ListSource([rec("f", 5, "social"), rec("g", 45, "web")]), NOW
    )
    with factory() as session:
        from storage.models import Complaint

        rows = session.execute(
            select(Complaint.external_id, Complaint.is_repeat, Complaint.is_multichannel)
        )
        flags = {r[0]: (r[1], r[2]) for r in rows}
    assert flags["a"] == (False, True) and flags["b"] == (True, True)
    assert flags["f"] == (True, True) and flags["g"] == (False, True)
    assert flags["c"] == (True, True)  # g came 5 days earlier on another channel
    assert flags["d"] == flags["e"] == (False, False)
