"""Copied-text campaigns (代理退保): identical and near-identical texts must fire, cheaply.

Regression for a campaign of thousands of identical texts that fired nothing (the rule wanted
``history_days - 1`` days of history and counted the campaign in its own baseline) and that made
the rule quadratic (every identical text was one more LSH entry that every later query walked).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import select

from alerts.backtest.io import load_complaints
from alerts.backtest.replay import run_backtest
from alerts.detect.rules.copied_text import MAX_NEIGHBOURS, CopiedTextEvaluator
from alerts.state.engine import evaluate
from config.rules import CopiedTextRule, RulesFile
from config.settings import PROJECT_ROOT
from domain.records import NormalizedComplaint
from storage.ingest import ingest_complaints
from storage.models import Alert
from tests.alerts.detection_helpers import COLUMNS, complaint, reader_for, replay

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CAMPAIGN_AT = START + timedelta(days=3, hours=1)
PRODUCTS = [f"P{i}" for i in range(10)]
REGIONS = ["广东", "湖南", "浙江", "四川"]
CAMPAIGN = "本人购买的保险存在误导销售行为，未告知犹豫期及退保损失，现要求全额退还已交保费，否则将向监管部门投诉"
NEAR = "本人于{y}年购买{p}，销售人员存在误导销售行为，未告知犹豫期及退保损失，现要求全额退还已交保费{tail}"
TAILS = ["", "。", "，请尽快处理", "，否则投诉到银保监", "！"]
CLAUSES = [
    "理赔材料交了两个月还没结果",
    "续保保费无故上涨",
    "保单贷款利息算错",
    "退保金额和合同写的不一样",
    "客服电话一直占线",
    "每月保费被重复扣款",
    "体检报告至今没有寄回",
    "纸质合同始终没收到",
    "业务员离职后没人跟进",
    "网点排队三个小时",
    "公众号查不到保单",
    "短信通知发错了名字",
    "医院发票被说不合格",
    "住院津贴少赔了一天",
    "犹豫期内退保被拒",
    "投保时没说明免责条款",
    "理赔员态度恶劣",
    "电子保单下载失败",
    "自动续费没有提前通知",
    "变更受益人一直不办",
    "生存金没有按时到账",
    "红利比演示的少很多",
    "车险出险后定损太低",
    "宽限期内就被停效",
    "要求提供的材料前后不一",
    "工作人员推来推去",
    "承诺的礼品没有兑现",
    "APP 闪退无法报案",
    "孩子的学平险报销被拒",
    "重疾险确诊后迟迟不赔",
]
ASKS = ["希望尽快解决", "要求给个说法", "请主管回电", "不然就去投诉", "请核实", "请退回多扣的钱"]


def shipped_rules() -> RulesFile:
    """The copied-text rule exactly as configured in config/rules.yaml."""
    data = yaml.safe_load((PROJECT_ROOT / "config" / "rules.yaml").read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["kind"] == "copied_text"]
    assert data["rules"], "config/rules.yaml has no copied_text rule"
    return RulesFile.model_validate(data)


def copied_text_rule() -> CopiedTextRule:
    """The shipped copied-text rule, as its evaluator takes it."""
    rule = shipped_rules().rules[0]
    assert isinstance(rule, CopiedTextRule)
    return rule


def varied_background(days: int = 3, per_day: int = 120, seed: int = 0) -> list[dict]:
    """Ordinary complaints in many different words (no wording repeated at campaign scale)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        for i in range(per_day):
            at = START + timedelta(days=d, minutes=int(i * 1440 / per_day))
            clauses = rng.choice(CLAUSES, size=int(rng.integers(2, 4)), replace=False)
            text = "，".join([*clauses, str(rng.choice(ASKS))])
            rows.append(complaint(f"bg{d}-{i}", at, str(rng.choice(PRODUCTS)),
                                  region=str(rng.choice(REGIONS)), text=text))  # fmt: skip
    return rows


def campaign(n: int, near: bool = False, prefix: str = "c", hours: float = 6) -> list[dict]:
    """``n`` copied texts across products and regions within ``hours``."""
    rows = []
    for i in range(n):
        text = CAMPAIGN
        if near:
            text = NEAR.format(y=2015 + i % 7, p=f"福佑{i % 13}号", tail=TAILS[i % len(TAILS)])
        at = CAMPAIGN_AT + timedelta(seconds=int(i * hours * 3600 / n))
        rows.append(complaint(f"{prefix}{i}", at, PRODUCTS[i % len(PRODUCTS)],
                              region=REGIONS[i % len(REGIONS)], text=text))  # fmt: skip
    return rows


def campaign_share(ids: list[str], prefix: str) -> float:
    return sum(i.startswith(prefix) for i in ids) / max(len(ids), 1)


def run_csv(tmp_path, rows: list[dict]) -> list[dict]:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = [r.isoformat() for r in frame["received_at"]]
    path = tmp_path / "complaints.csv"
    frame.to_csv(path, index=False)
    out = io.StringIO()
    summary = run_backtest(load_complaints(path)[0], shipped_rules(), out, progress=False)
    assert not summary.failed_rules
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_varied_background_alone_does_not_fire(tmp_path):
    assert run_csv(tmp_path, varied_background(days=5)) == []


def test_identical_campaign_fires_in_the_backtest(tmp_path):
    lines = run_csv(tmp_path, varied_background() + campaign(1000))
    assert len(lines) == 1, lines
    [line] = lines
    assert line["rule"] == "copied-text" and line["count"] >= 5
    assert campaign_share(line["complaint_ids"], "c") >= 0.3
    assert datetime.fromisoformat(line["fired_at"]) <= CAMPAIGN_AT + timedelta(hours=1)


def test_near_identical_campaign_fires_in_the_backtest(tmp_path):
    lines = run_csv(tmp_path, varied_background() + campaign(400, near=True, prefix="n"))
    assert [line["rule"] for line in lines] == ["copied-text"], lines
    assert campaign_share(lines[0]["complaint_ids"], "n") >= 0.3


def test_a_campaign_grown_from_a_small_past_still_fires(tmp_path):
    """A handful of these texts last week does not make 1000 today its own baseline."""
    rows = varied_background(days=4)
    rows += [complaint(f"early{i}", START + timedelta(hours=2 + i), PRODUCTS[i], text=CAMPAIGN)
             for i in range(3)]  # fmt: skip
    rows += [dict(r, received_at=r["received_at"] + timedelta(days=1)) for r in campaign(1000)]
    lines = run_csv(tmp_path, rows)
    assert len(lines) == 1 and campaign_share(lines[0]["complaint_ids"], "c") >= 0.3


def test_large_identical_campaign_costs_one_lsh_entry(tmp_path):
    rows = varied_background() + campaign(5000)
    evaluator = CopiedTextEvaluator(copied_text_rule())
    hits = replay(evaluator, reader_for(rows), START, CAMPAIGN_AT + timedelta(hours=7),
                  step=timedelta(minutes=30))  # fmt: skip
    background = len(varied_background())
    assert evaluator.lsh_queries <= background + 1  # the 4,999 copies cost no LSH work
    assert evaluator.lsh_inserts <= background + 1
    final = hits[-1][1]
    assert len(final) == 1 and final[0].count == 5000
    assert campaign_share(final[0].external_ids, "c") == 1.0


def test_near_identical_campaign_indexes_a_bounded_number_of_texts():
    rows = varied_background()
    rows += [dict(r, text=r["text"] + f"，保单号{chr(0x4E00 + i)}") for r in campaign(2000, near=True)
             for i in [int(r["id"][1:])]]  # fmt: skip
    evaluator = CopiedTextEvaluator(copied_text_rule())
    hits = replay(evaluator, reader_for(rows), START, CAMPAIGN_AT + timedelta(hours=7),
                  step=timedelta(minutes=30))  # fmt: skip
    inserted_by_campaign = evaluator.lsh_inserts - len(varied_background())
    assert inserted_by_campaign <= 2 * MAX_NEIGHBOURS  # every bucket stays small: no quadratic
    [finding] = hits[-1][1]
    assert finding.count >= 1800 and campaign_share(finding.external_ids, "c") == 1.0


def row_for(r: dict) -> NormalizedComplaint:
    return NormalizedComplaint(
        source="web", external_id=r["id"], received_at=r["received_at"],
        collected_at=r["received_at"], channel=r["channel"], product_code=r["product_code"],
        product_name=r["product_name"], product_line=r["product_line"], region=r["region"],
        category=r["category"], event_tag=r["event_tag"], text=r["text"], customer_key="",
        branch="",
    )  # fmt: skip


def test_identical_campaign_fires_in_the_live_engine(session):
    rules = shipped_rules()
    ingest_complaints(session, [row_for(r) for r in varied_background()])
    session.commit()
    for h in range(0, 72, 6):  # the worker watched the ordinary days: nothing fires
        evaluate(session, rules, START + timedelta(hours=h))
    session.commit()
    assert session.scalars(select(Alert)).all() == []
    ingest_complaints(session, [row_for(r) for r in campaign(600)])
    session.commit()
    evaluate(session, rules, CAMPAIGN_AT + timedelta(hours=6, minutes=5))
    evaluate(session, rules, CAMPAIGN_AT + timedelta(hours=6, minutes=10))
    session.commit()
    [alert] = session.scalars(select(Alert)).all()
    assert alert.rule == "copied-text" and alert.state == "firing"
    assert alert.count == 600
    assert campaign_share(alert.evidence["external_ids"], "c") >= 0.3


def test_a_campaign_that_keeps_growing_is_not_its_own_baseline():
    """1,000 copies yesterday and 2,500 today: still a campaign, not yesterday's normal."""
    rows = varied_background(days=5)
    rows += [dict(r, received_at=r["received_at"] - timedelta(days=1)) for r in campaign(1000)]
    rows += [dict(r, id=f"d{i}") for i, r in enumerate(campaign(2500))]
    evaluator = CopiedTextEvaluator(copied_text_rule())
    reader = reader_for(rows)
    day_two = CAMPAIGN_AT + timedelta(hours=23)  # the window holds today's wave only
    hits = replay(evaluator, reader, START, day_two, step=timedelta(hours=1))
    assert hits[-1][0] == day_two
    [finding] = hits[-1][1]
    assert finding.count == 2500 and finding.expected < finding.count / 3
