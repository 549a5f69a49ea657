"""Deterministic test data written through the real ingest path and the real rule engine."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from alerts.state.engine import evaluate
from config.models import RulesFile
from domain.records import NormalizedComplaint
from storage.db import make_session_factory, session_scope
from storage.ingest import ingest_complaints


def complaint(n: int, at: datetime, channel: str = "hotline", **kw) -> NormalizedComplaint:
    kw.setdefault("product_code", "CAR-001")
    kw.setdefault("product_name", "安心交强险")
    kw.setdefault("product_line", "车险")
    kw.setdefault("region", "广东")
    kw.setdefault("category", "理赔")
    kw.setdefault("text", "理赔太慢")
    return NormalizedComplaint(
        source=kw.pop("source", "test"),
        external_id=f"c{n}",
        received_at=at,
        collected_at=at,
        channel=channel,
        **kw,
    )


def ingest(engine: Engine, rows: list[NormalizedComplaint]) -> int:
    with session_scope(make_session_factory(engine)) as session:
        return ingest_complaints(session, rows).inserted


BURST_RULES = RulesFile.model_validate(
    {
        "rules": [
            {
                "name": "product-threshold",
                "kind": "threshold",
                "group_by": ["product_code"],
                "window_minutes": 60,
                "threshold": 5,
                "severity": 3,
            }
        ]
    }
)


def run_rules(engine: Engine, now: datetime) -> None:
    with session_scope(make_session_factory(engine)) as session:
        evaluate(session, BURST_RULES, now)


def seed_burst(
    engine: Engine, now: datetime, size: int = 8, start: int = 1000
) -> list[NormalizedComplaint]:
    """``size`` complaints about one health product in the last 30 minutes, then a rule tick."""
    rows = [
        complaint(
            start + i,
            now - timedelta(minutes=30) + timedelta(minutes=3 * i),
            channel="social" if i % 2 else "hotline",
            product_code="HLT-007",
            product_name="守护百万医疗险",
            product_line="健康险",
            region="浙江" if i % 3 else "江苏",
            event_tag="百万医疗拒赔",
            text=f"百万医疗理赔被拒 {i} 次，电话 138****0000",
        )
        for i in range(size)
    ]
    ingest(engine, rows)
    run_rules(engine, now)
    return rows
