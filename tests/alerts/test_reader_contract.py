"""The backtest runs the live rules: the SQL reader (SQLite, PostgreSQL) and the in-memory one
give the same findings on the same complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from alerts.detect.evaluators import EvaluatorSet
from alerts.detect.memory_reader import MemoryReader
from alerts.detect.sql_reader import SqlReader
from config.loader import load_file
from config.rules import RulesFile
from config.settings import PROJECT_ROOT
from storage.ingest import ingest_complaints
from tests.alerts.detection_helpers import COLUMNS
from tests.alerts.test_detection_engine import Row

START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # midnight Beijing, Monday 3 March 2025
DAYS = 12
SURGE_AT = START + timedelta(days=DAYS - 1, hours=2)  # 02:00 Beijing on the last day


PHRASES = [
    "理赔材料已经交齐了两个月还没有结果，客服电话一直打不通",
    "续保的时候保费涨了很多，业务员也没有提前说明原因",
    "App 上查不到保单信息，登录以后一直提示系统繁忙",
    "退保只退现金价值，当初销售的时候完全没有讲清楚",
]


def stream() -> list[dict]:
    """Four products over twelve days, several channels, categories and regions; on the last
    night a mis-selling burst of one product in one province, then a copied-text campaign."""
    rng = np.random.default_rng(21)
    rows: list[dict] = []
    rates = {"P1": 30, "P2": 12, "P3": 5, "P4": 1}
    for d in range(DAYS):
        for product, rate in rates.items():
            for i in range(int(rng.poisson(rate * rng.gamma(4, 0.25)))):
                at = START + timedelta(days=d, hours=float(rng.uniform(0.5, 14)))
                rows.append(_row(f"{product}-{d}-{i}", at, product, rng))
    for i in range(14):
        at = SURGE_AT + timedelta(minutes=3 * i)
        rows.append({**_row(f"s{i}", at, "P2", rng), "region": "河南", "category": "销售"})
    for i in range(8):  # a copied text across products, and an event tag
        at = SURGE_AT + timedelta(hours=1, minutes=5 * i)
        text = "本人购买的保险存在误导销售，要求全额退还已交保费，否则向监管部门投诉"
        rows.append({**_row(f"c{i}", at, f"P{1 + i % 3}", rng), "text": text,
                     "event_tag": "集体退保"})  # fmt: skip
    return rows


def _row(cid: str, at: datetime, product: str, rng) -> dict:
    return {"id": cid, "received_at": at, "product_code": product, "product_name": product,
            "product_line": "寿险", "channel": str(rng.choice(["hotline", "web", "social"])),
            "region": str(rng.choice(["广东", "江苏", "河南"])),
            "category": str(rng.choice(["理赔", "服务", "销售"])), "event_tag": "",
            "text": str(rng.choice(PHRASES))}  # fmt: skip


def as_row(d: dict) -> Row:
    row = Row(d["id"], d["received_at"], d["product_code"], d["channel"])
    row.region, row.category, row.text, row.event_tag = (
        d["region"], d["category"], d["text"], d["event_tag"],
    )  # fmt: skip
    return row


def findings(reader_at, rules: RulesFile) -> list[tuple]:
    """Every surge rule's findings at each half hour of the last day, comparable across readers.

    ``reader_at(now)`` must show exactly the complaints received at or before ``now``."""
    evaluators = EvaluatorSet()
    out = []
    now = START + timedelta(days=DAYS - 1)
    while now <= START + timedelta(days=DAYS, hours=-8):
        reader = reader_at(now)
        for rule in rules.rules:
            if rule.kind == "source_silent":  # sources are the live reader's alone
                continue
            for f in evaluators.get(rule, rules).evaluate(reader, now):
                out.append((now, f.rule, tuple(sorted(f.key.items())), f.count,
                            round(f.expected, 3), round(f.score, 3), f.since, f.until))  # fmt: skip
        now += timedelta(minutes=30)
    return out


def test_sql_and_memory_readers_find_the_same_alerts(session):
    rules, _ = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    rows = sorted(stream(), key=lambda r: r["received_at"])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    memory = MemoryReader(frame)

    def memory_at(now):
        memory.advance(now)
        return memory

    stored = 0

    def sql_at(now):  # the worker stores what has arrived, then evaluates
        nonlocal stored
        due = [as_row(r) for r in rows[stored:] if r["received_at"] <= now]
        if due:
            ingest_complaints(session, due)
            session.commit()
            stored += len(due)
        return SqlReader(session)

    live = findings(sql_at, rules)
    replayed = findings(memory_at, rules)
    assert live == replayed
    fired = {rule for _, rule, *_ in live}
    surged = {(rule, key) for _, rule, key, *_ in live}
    assert ("product-region-surge", (("product_code", "P2"), ("region", "河南"))) in surged
    assert {"copied-text", "event"} <= fired
