"""Why is this surging: the distinctive words, the over-represented labels, a suggested
category; on crafted texts, on both databases, and in the notification line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.detect.why import (
    distinctive_terms,
    explain,
    guess_category,
    over_represented,
    summary_line,
    words,
)
from alerts.detect.why_data import why_of
from alerts.notify.delivery import _why as delivery_why
from alerts.notify.message import Notice, NoticeItem, render_text
from config.settings import PROJECT_ROOT
from storage.db import make_session_factory, session_scope
from storage.models import Alert, Complaint
from tests.dashboard.seed import complaint, ingest

USUAL = [
    "理赔太慢，等了很久还没有结果",
    "客服电话一直打不通，理赔进度不清楚",
    "理赔材料反复补交，流程复杂",
    "续期扣款没有提前通知",
    "业务员承诺的收益和合同不一致",
]
SURGE = [
    "车辆定损金额太低，理赔员不认可维修厂报价",
    "定损金额只有维修费用一半，理赔不合理",
    "暴雨泡水车定损金额过低，要求重新定损",
    "定损金额和4S店报价差距太大，理赔太慢",
]


def test_a_surge_word_ranks_first_and_a_usual_word_does_not_rank():
    baseline = [USUAL[i % len(USUAL)] for i in range(200)]
    surge = [SURGE[i % len(SURGE)] for i in range(20)]
    terms = distinctive_terms(surge, baseline)
    assert terms and terms[0].text in {"定损", "金额", "定损金额"}
    assert terms[0].count == 20 and terms[0].baseline == 0
    assert "理赔" not in [t.text for t in terms]  # common in both: not what sets it apart
    assert distinctive_terms([], baseline) == []


def test_words_drop_stop_words_numbers_and_masked_digits():
    found = words("客户138****5678投诉，要求退还保费12000元，代理人承诺全额退")
    assert "代理人" in found and "投诉" not in found and "要求" not in found
    assert not any("*" in w or w.isdigit() for w in found)


def test_labels_well_above_their_usual_share_are_named_with_it():
    shares = over_represented(
        {"region": ["广州"] * 8 + ["深圳"] * 2, "channel": ["hotline"] * 5 + ["web"] * 5},
        {"region": ["广州"] * 10 + ["深圳"] * 90, "channel": ["hotline"] * 50 + ["web"] * 50},
    )
    assert [(s.dimension, s.value) for s in shares] == [("region", "广州")]
    assert shares[0].count == 8 and abs(shares[0].share - 0.8) < 1e-9
    assert 0.09 < shares[0].expected < 0.12


def test_a_category_is_suggested_with_its_words_and_confidence():
    guess = guess_category([*SURGE, "代理人承诺可以全额退保"])  # 理赔 ×4, 销售 and 退保 ×1
    assert guess is not None and guess.category == "理赔"
    assert "定损" in guess.words and guess.confidence == 4 / 6
    assert guess_category(["天气不错"]) is None


def test_the_line_a_notification_carries():
    rows = [{"text": SURGE[i % 4], "category": "", "region": "广州", "channel": "hotline"}
            for i in range(12)]  # fmt: skip
    base = [{"text": USUAL[i % 5], "category": "理赔", "region": "深圳", "channel": "hotline"}
            for i in range(100)]  # fmt: skip
    why = explain(rows, base)
    line = summary_line(why, {"hotline": "热线"})
    assert line.startswith("广州 · “")
    assert "×12" in line and line.endswith("疑似理赔")  # the source gave no category


def test_a_branch_is_named_when_the_baseline_names_branches_too():
    """Branches are over-represented like regions; a baseline that names no branch gives no
    usual share to compare with, so then none is named."""
    rows = [{"text": SURGE[i % 4], "branch": "佛山中心支公司", "region": "广东"} for i in range(10)]
    base = [{"text": USUAL[i % 5], "branch": ("广东分公司", "深圳中心支公司")[i % 2],
             "region": "广东"} for i in range(100)]  # fmt: skip
    over = explain(rows, base).over
    assert [(s.dimension, s.value, s.count) for s in over] == [("branch", "佛山中心支公司", 10)]
    assert "佛山中心支公司" in summary_line(explain(rows, base))
    unnamed = [{**row, "branch": ""} for row in base]
    assert [s.dimension for s in explain(rows, unnamed).over] == []


def test_why_of_an_alert_on_both_databases(engine):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    usual = [
        complaint(i, now - timedelta(days=1 + i % 20, hours=i % 7), "hotline",
                  text=USUAL[i % 5], region="深圳")
        for i in range(120)
    ]  # fmt: skip
    surge = [
        complaint(1000 + i, now - timedelta(minutes=60 - i), "web", text=SURGE[i % 4],
                  region="广州", branch="广州中心支公司")
        for i in range(15)
    ]  # fmt: skip
    other_product = [complaint(2000 + i, now - timedelta(days=2), "web", product_code="X",
                               text="定损金额太低") for i in range(30)]  # fmt: skip
    ingest(engine, usual + surge + other_product)
    with session_scope(make_session_factory(engine)) as session:
        surge_ids = list(
            session.scalars(
                select(Complaint.id).where(Complaint.region == "广州").order_by(Complaint.id)
            )
        )
        alert = Alert(
            fingerprint="why", rule="product-surge", rule_kind="surge",
            key={"product_code": "CAR-001"}, title="t", severity=3, state="firing",
            started_at=now, fired_at=now, last_seen_at=now, count=15, expected=1.0,
            evidence={"complaint_ids": surge_ids},
        )  # fmt: skip
        session.add(alert)
        session.flush()
        found = why_of(session, alert.id)
        assert found is not None
        why, earliest = found
        line = delivery_why(session, alert)
    assert why.complaints == 15 and why.baseline == 120  # product X's complaints are not its
    assert why.terms[0].text in {"定损", "金额", "定损金额"} and why.terms[0].baseline == 0
    assert {(s.dimension, s.value) for s in why.over} >= {("region", "广州"), ("channel", "web")}
    assert [r["text"] for r in earliest][:1] == [SURGE[0]]
    assert line == "网页表单 · 广州 · “定损”×15 · “金额”×15"  # channel by its name
    item = NoticeItem(
        alert_id=alert.id, state="firing", severity=3, title="产品激增", count=15, expected=1.0,
        where="产品 CAR-001", since=now, detail_url="http://radar/alerts?alert=1", why=line,
    )  # fmt: skip
    assert f"特征：{line}" in render_text(Notice(items=[item], dashboard_url="http://radar"))


def test_a_key_without_history_gets_its_commonest_words():
    surge = [SURGE[0]] * 5 + ["集体投诉"] * 4
    terms = distinctive_terms(surge, [])
    assert terms[0].count == 5 and terms[0].baseline == 0
    assert distinctive_terms(["集体投诉"] * 20, ["集体投诉"] * 3) == []  # alike: nothing, no error


OFFLINE_SCRIPT = """
from alerts.detect.why import explain, summary_line
rows = [{"text": t, "category": "", "region": "广州", "channel": "hotline"} for t in SURGE * 3]
base = [{"text": t, "category": "理赔", "region": "深圳", "channel": "hotline"} for t in USUAL * 20]
print(summary_line(explain(rows, base), {}))
"""


def _no_network() -> list[str] | None:
    """``unshare -n``: a network namespace with no interface but loopback, when permitted."""
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ["unshare", "-n"] if ok.returncode == 0 else None


def test_the_text_analysis_runs_without_a_network(tmp_path):
    """jieba cuts words with the dictionary in its wheel: in a process that has no network and
    a fresh temporary directory (so jieba's cache is built anew), the why-line still comes."""
    prefix = _no_network()
    if prefix is None:
        pytest.skip("unshare -n is not permitted here")
    script = f"SURGE = {SURGE!r}\nUSUAL = {USUAL!r}\n{OFFLINE_SCRIPT}"
    done = subprocess.run(
        [*prefix, sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "“定损”×12" in done.stdout or "“金额”×12" in done.stdout
    assert done.stdout.strip().endswith("疑似理赔")
