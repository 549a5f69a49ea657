"""The backtest runs the live rules: the SQL reader on SQLite and on PostgreSQL and the backtest's
in-memory reader, fed the same complaints, answer every ``CountReader`` method alike and give
the same findings for every rule.

The complaints go through each side's real path: ``storage.ingest`` (as the worker stores what
has arrived before each evaluation) and the backtest's CSV loader.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select

from alerts.backtest.io import REQUIRED_COLUMNS, load_complaints
from alerts.detect.evaluators import EvaluatorSet
from alerts.detect.id_cursor import IdCursor
from alerts.detect.memory_reader import MemoryReader
from alerts.detect.rules.base import CountReader, window_bounds
from alerts.detect.sql_reader import SqlReader
from config.loader import load_file
from config.rules import RulesFile, ThresholdRule
from config.settings import PROJECT_ROOT
from domain.records import NormalizedComplaint
from storage.ingest import ingest_complaints
from storage.models import Complaint

LOCAL = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 17, tzinfo=LOCAL)  # a Monday; 清明 is 4–6 April 2025
HOLIDAY_BURST = datetime(2025, 4, 5, 9, 40, tzinfo=LOCAL)
KEYWORD_WAVE = datetime(2025, 4, 7, 14, 10, tzinfo=LOCAL)
SALES_BURST = datetime(2025, 4, 8, 9, 50, tzinfo=LOCAL)
CAMPAIGN = datetime(2025, 4, 8, 11, 0, tzinfo=LOCAL)
DAYS = 23  # up to and including 8 April

CAMPAIGN_TEXT = "本人购买的保险存在误导销售，要求全额退还已交保费，否则向监管部门投诉"
PHRASES = [
    "理赔材料已经交齐了两个月还没有结果，客服电话一直打不通",
    "续保的时候保费涨了很多，业务员也没有提前说明原因",
    "App 上查不到保单信息，登录以后一直提示系统繁忙",
    "退保只退现金价值，当初销售的时候完全没有讲清楚",
    "车险出险以后定损员迟迟不来，修理厂催着要提车",
]
# the moments evaluated, in order: the second day, the holiday burst, the keyword wave, the
# last morning
MOMENTS = [
    datetime(2025, 3, 18, 12, 0, tzinfo=LOCAL),  # before any customer key
    *(HOLIDAY_BURST.replace(hour=8, minute=0) + timedelta(minutes=30 * i) for i in range(8)),
    *(KEYWORD_WAVE.replace(hour=14, minute=5) + timedelta(minutes=45 * i) for i in range(5)),
    datetime(2025, 4, 8, 0, 3, tzinfo=LOCAL),  # just after local midnight: baselines refit
    *(SALES_BURST.replace(hour=9, minute=0) + timedelta(minutes=20 * i) for i in range(13)),
]
EXTRA_RULES = [  # threshold is no default rule kind: these read complainants and filters
    ThresholdRule(name="complainants", kind="threshold", threshold=4, window_minutes=120,
                  count="complainants", group_by=["product_code"]),
    ThresholdRule(name="loud-channels", kind="threshold", threshold=3, window_minutes=360,
                  group_by=["product_code", "region"],
                  filters={"channel": ["social", "regulator", "media"]}),
]  # fmt: skip


def complaints() -> list[dict]:
    """Four products over 23 days with fewer complaints on weekends and the holiday; a burst of
    one product and region on the holiday, a keyword wave, a mis-selling burst in one province
    and a copied-text campaign with an event tag on the last day; customers who complain
    twice (from the third day on); some complaints at the same second."""
    rng = np.random.default_rng(21)
    rates = {"P1": 40, "P2": 15, "P3": 6, "P4": 2}
    rows: list[dict] = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        quiet = 0.4 if day.date().isoformat() in ("2025-04-04", "2025-04-05", "2025-04-06") else 1
        quiet *= 0.6 if day.weekday() >= 5 else 1
        for product, rate in rates.items():
            for i in range(int(rng.poisson(rate * quiet * rng.gamma(4, 0.25)))):
                at = day + timedelta(hours=float(rng.uniform(8, 22)))
                rows.append(_row(f"{product}-{d}-{i}", at, product, rng))
    for i in range(16):
        at = HOLIDAY_BURST + timedelta(minutes=4 * i)
        rows.append(_row(f"h{i}", at, "P3", rng, region="江苏", channel="social"))
    for i in range(7):
        at = KEYWORD_WAVE + timedelta(minutes=17 * i)
        text = f"买的理财产品暴雷了，到期无法兑付，第{i}次打电话没人管"
        rows.append(_row(f"k{i}", at, f"P{1 + i % 4}", rng, text=text))
    for i in range(14):
        at = SALES_BURST + timedelta(minutes=3 * (i // 2))  # pairs at the same second
        channel = "regulator" if i % 5 == 0 else "hotline"
        rows.append(_row(f"s{i}", at, "P2", rng, region="河南", category="销售", channel=channel))
    for i in range(9):
        at = CAMPAIGN + timedelta(minutes=5 * i)
        rows.append(_row(f"c{i}", at, f"P{1 + i % 3}", rng, text=CAMPAIGN_TEXT,
                         event_tag="集体退保", region=["广东", "江苏", "河南"][i % 3]))  # fmt: skip
    for r in rows:  # customer keys start on the third day (a CRM joined late)
        if r["received_at"] < START + timedelta(days=2):
            r["customer_key"] = ""
    return sorted(rows, key=lambda r: r["received_at"])


def _row(cid: str, at: datetime, product: str, rng, **fields: str) -> dict:
    channel = fields.pop("channel", str(rng.choice(["hotline", "web", "app", "social", "media"])))
    customer = "" if channel in ("web", "social") else f"cust-{rng.integers(0, 300)}"
    row = {
        "id": cid, "received_at": at.replace(microsecond=0).astimezone(UTC),
        "channel": channel, "product_code": product, "product_name": f"产品{product}",
        "product_line": "寿险" if product in ("P1", "P2") else "车险",
        "region": str(rng.choice(["广东", "江苏", "河南", "四川"])),
        "category": str(rng.choice(["理赔", "服务", "销售"])), "event_tag": "",
        "text": str(rng.choice(PHRASES)), "customer_key": customer,
    }  # fmt: skip
    return {**row, **fields}


def memory_reader(rows: list[dict], tmp_path) -> MemoryReader:
    """The backtest's reader, from a complaint CSV read by the backtest's loader."""
    path = tmp_path / "complaints.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*REQUIRED_COLUMNS, "customer_key"])
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "received_at": r["received_at"].astimezone(LOCAL).isoformat()})
    frame, report = load_complaints(path)
    assert report.loaded == len(rows) and not report.skipped
    return MemoryReader(frame)


class Live:
    """The worker's view: before each evaluation it stores what has arrived (the real ingest),
    then reads through a new ``SqlReader``."""

    def __init__(self, session, rows: list[dict]):
        self.session, self.rows, self.stored = session, rows, 0

    def at(self, now: datetime) -> SqlReader:
        due = [r for r in self.rows[self.stored :] if r["received_at"] <= now]
        if due:
            ingest_complaints(self.session, [_normalized(r) for r in due])
            self.session.commit()
            self.stored += len(due)
        return SqlReader(self.session)

    def external_id(self) -> dict[int, str]:
        return dict(self.session.execute(select(Complaint.id, Complaint.external_id)).all())


def _normalized(r: dict) -> NormalizedComplaint:
    fields = {k: v for k, v in r.items() if k not in ("id", "received_at")}
    return NormalizedComplaint(source="backtest", external_id=r["id"],
                               received_at=r["received_at"], collected_at=r["received_at"],
                               **fields)  # fmt: skip


def replay(reader_at, rules: RulesFile) -> tuple[list[tuple], dict[datetime, dict]]:
    """Every rule's findings at every moment, and at every third moment the reader's
    ``answers`` (complaint ids are the reader's own).

    ``reader_at(now)`` must show exactly the complaints received at or before ``now``."""
    evaluators = EvaluatorSet()
    found, answered = [], {}
    for i, now in enumerate(MOMENTS):
        reader = reader_at(now)
        for rule in rules.rules:
            for f in evaluators.get(rule, rules).evaluate(reader, now):
                found.append((now, f.rule, f.key, f.count, f.expected, f.score, f.severity,
                              f.title, f.since, f.until, f.complaint_ids, f.external_ids,
                              f.details))  # fmt: skip
        if i % 3 == 0:
            answered[now] = answers(reader_at(now), now)
    return found, answered


def answers(reader: CountReader, now: datetime) -> dict[str, object]:
    """Each protocol method's answers on a spread of arguments (ids as the reader's own)."""
    _, until = window_bounds(now, 5)
    midnight = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    out: dict[str, object] = {}
    groupings = [[], ["product_code"], ["product_code", "region"], ["channel", "product_code"],
                 ["event_tag"], ["product_code", "category"]]  # fmt: skip
    for filters in (None, {"channel": ["hotline", "regulator"], "region": ["河南", "广东"]}):
        f = repr(filters)
        for group_by in groupings:
            g = repr(group_by)
            for minutes in (30, 360, 1440, 7 * 1440):
                since = until - timedelta(minutes=minutes)
                for min_count in (5, 1):
                    counts = reader.window_counts(group_by, since, until, filters, min_count)
                    out[f"window_counts {g} {minutes} {f} {min_count}"] = dict(counts)
                keys = [*sorted(counts)[:3], ("nope",) * len(group_by)]
                out[f"counts_of_keys {g} {minutes} {f}"] = reader.counts_of_keys(
                    group_by, since, until, keys, filters
                )
                out[f"distinct_customers {g} {minutes} {f}"] = reader.distinct_customers(
                    group_by, since, until, filters
                )
            for step, since in ((5, midnight), (60, midnight - timedelta(days=2)),
                                (1440, midnight - timedelta(days=14))):  # fmt: skip
                keys, matrix = reader.series(group_by, since, until, step, filters)
                out[f"series {g} {step} {f}"] = dict(zip(keys, matrix.tolist(), strict=True))
                out[f"series_cells {g} {step} {f}"] = cells = series_cells_of(
                    reader, group_by, since, until, step, filters
                )
                dense = {k: [[b, n] for b, n in enumerate(row) if n]
                         for k, row in zip(keys, matrix.tolist(), strict=True)}  # fmt: skip
                assert cells == dense
        for key in ({"product_code": "P2", "region": "河南"}, {"event_tag": "集体退保"},
                    {"product_code": "P1"}):  # fmt: skip
            for limit in (3, 1000):
                since = until - timedelta(days=1)
                refs = reader.complaint_refs(key, since, until, limit, filters)
                out[f"complaint_refs {key} {limit} {f}"] = refs
    texts, cursor = reader.new_texts(IdCursor(), now - timedelta(hours=30))
    # in id order, and ids are the reader's own: PostgreSQL numbers a stored page of
    # complaints by external id, SQLite in the order given, the backtest by time
    out["new_texts"] = sorted(texts, key=lambda row: (row.received_at, row.external_id))
    out["new_texts again"] = reader.new_texts(cursor, now - timedelta(hours=30))[0]
    out["source_health"] = reader.source_health()
    return out


def series_cells_of(reader: CountReader, group_by, since, until, step, filters) -> dict:
    """``series_cells`` as {key: [[bin, count], ...]}, checking their row-then-bin order."""
    keys, rows, bins, counts = reader.series_cells(group_by, since, until, step, filters)
    order = list(zip(rows.tolist(), bins.tolist(), strict=True))
    assert order == sorted(set(order)) and (counts > 0).all()
    cells: dict = {}
    for (row, b), n in zip(order, counts.tolist(), strict=True):
        cells.setdefault(keys[row], []).append([b, n])
    return cells


def as_external(value, external_id):
    """``value`` with each reader's own complaint ids (in refs, text rows and findings) as the
    complaints' external ids: the SQL ids and the backtest's row numbers differ."""
    if isinstance(value, dict):
        return {k: as_external(v, external_id) for k, v in value.items()}
    if isinstance(value, tuple) and len(value) == 2:  # replay's (findings, answers)
        return tuple(as_external(v, external_id) for v in value)
    if isinstance(value, list) and value and hasattr(value[0], "_replace"):  # refs, text rows
        return [row._replace(id=external_id(row.id)) for row in value]
    if isinstance(value, list) and value and isinstance(value[0], tuple):  # findings
        return [(*f[:10], [external_id(i) for i in f[10]], *f[11:]) for f in value]
    return value


def last_bits(details: dict) -> dict:
    """``details`` with its floats compared to 1e-12: the fits sum over the keys of a series,
    whose row order a database does not set, so p-values may differ in their last bits (the
    rounded ``expected`` and ``score`` do not)."""
    return {
        k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in details.items()
    }


def test_sql_and_memory_readers_answer_alike_and_find_the_same_alerts(session, tmp_path):
    rules, _ = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    assert rules is not None
    rules = rules.model_copy(update={"rules": [*rules.rules, *EXTRA_RULES]})
    rows = complaints()
    memory = memory_reader(rows, tmp_path)
    live = Live(session, rows)

    def memory_at(now: datetime) -> MemoryReader:
        memory.advance(now)
        return memory

    replayed, replayed_answers = as_external(
        replay(memory_at, rules), memory.external_ids.__getitem__
    )
    stored, stored_answers = as_external(replay(live.at, rules), live.external_id().get)
    assert stored == [(*f[:-1], last_bits(f[-1])) for f in replayed]
    for now, answered in replayed_answers.items():
        assert stored_answers[now].keys() == answered.keys()
        for name, value in answered.items():
            assert stored_answers[now][name] == value, (now, name)

    fired = {(f[1], tuple(f[2].values())) for f in stored}
    assert ("product-region-surge", ("P2", "河南")) in fired  # the mis-selling burst
    assert ("channel-product-surge", ("social", "P3")) in fired  # the burst on the holiday
    assert ("event", ("集体退保",)) in fired and ("event", ("理财暴雷",)) in fired
    assert any(rule == "copied-text" for rule, _ in fired)
    assert {"complainants", "loud-channels", "product-surge"} <= {rule for rule, _ in fired}
