"""Build small complaint frames and replay them through the in-memory reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from alerts.detect.memory_reader import MemoryReader

COLUMNS = ["id", "received_at", "channel", "product_code", "product_name", "product_line",
           "region", "category", "event_tag", "text"]  # fmt: skip


def complaint(cid: str, at: datetime, product: str = "P1", **extra: str) -> dict:
    row = {"id": cid, "received_at": at, "channel": "hotline", "product_code": product,
           "product_name": product, "product_line": "寿险", "region": "广东", "category": "理赔",
           "event_tag": "", "text": f"普通投诉 {cid}"}  # fmt: skip
    row.update(extra)
    return row


def background(start: datetime, days: int, per_day: dict[str, float], seed: int = 0,
               dispersion: float = 0.0) -> list[dict]:  # fmt: skip
    """Daytime complaints per product and day, gamma-Poisson when dispersion > 0."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        for product, rate in per_day.items():
            lam = rate * (rng.gamma(1 / dispersion, dispersion) if dispersion else 1.0)
            for i in range(int(rng.poisson(lam))):
                at = start + timedelta(days=d, hours=float(rng.uniform(1, 10)))  # 09-18 Beijing
                rows.append(complaint(f"{product}-{d}-{i}", at, product))
    return rows


def reader_for(rows: list[dict]) -> MemoryReader:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    return MemoryReader(frame)


def replay(evaluator, reader: MemoryReader, start: datetime, end: datetime,
           step: timedelta = timedelta(minutes=5)) -> list[tuple[datetime, list]]:  # fmt: skip
    """Findings at every tick where there are any."""
    out = []
    now = start
    while now <= end:
        reader.advance(now)
        findings = evaluator.evaluate(reader, now)
        if findings:
            out.append((now, findings))
        now += step
    return out


# A source that was down: its product's 29 days of complaints arrive after the day's first fit.
START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # midnight Beijing, Monday 3 March 2025
TODAY = START + timedelta(days=28)  # local midnight of the day evaluated
FIT = TODAY + timedelta(hours=2)  # 10:00 local: the first evaluation, before the late history
AFTER = FIT + timedelta(hours=3)
OTHERS = {"P1": 40, "P2": 20, "P3": 10}
LATE = "PX"  # a product whose source was down: its complaints of 29 days arrive after FIT


def late_history_rows() -> tuple[list[dict], list[dict]]:
    """Every product's complaints, and the same without the late source's product."""
    rows = background(START, 29, {**OTHERS, LATE: 30}, seed=4)
    return rows, [r for r in rows if r["product_code"] != LATE]
