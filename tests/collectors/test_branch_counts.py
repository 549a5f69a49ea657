"""The branch office on counts: complaints and count-only rows are counted per branch, a rule
can group by it, and rows without a branch keep their delivery key (no double count on
upgrade). Both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from alerts.state.engine import evaluate
from collectors.counts import to_raw_count
from config.rules import RulesFile
from config.sources import CountsSource
from domain.products import ProductTable
from storage.models import Alert, ComplaintCount
from tests.alerts.test_detection_engine import Row, add
from tests.collectors.helpers import NOW, run
from tests.collectors.test_counts import PRODUCTS, csv_source

BRANCH_RULE = RulesFile.model_validate(
    {
        "rules": [
            {"name": "branch-threshold", "kind": "threshold", "group_by": ["branch"],
             "window_minutes": 60, "threshold": 3},
        ]
    }
)  # fmt: skip


def branch_row(cid: str, at, branch: str) -> Row:
    row = Row(cid, at)
    row.branch = branch
    return row


def test_complaints_are_counted_per_branch_and_a_rule_groups_by_it(session, clock):
    t = clock.now
    add(session, [branch_row(f"a{i}", t - timedelta(minutes=i), "深圳分公司") for i in range(3)])
    add(session, [branch_row(f"b{i}", t - timedelta(minutes=i), "") for i in range(5)])
    per_branch = dict(
        session.execute(
            select(ComplaintCount.branch, func.sum(ComplaintCount.count)).group_by(
                ComplaintCount.branch
            )
        ).all()
    )
    assert per_branch == {"深圳分公司": 3, "": 5}
    evaluate(session, BRANCH_RULE, t)
    session.commit()
    keys = [a.key for a in session.scalars(select(Alert))]
    assert keys == [{"branch": "深圳分公司"}]  # five without a branch form no key


def test_count_rows_carry_their_branch_and_old_rows_keep_their_key(factory, tmp_path):
    config = CountsSource.model_validate(
        {"name": "cti", "kind": "counts", "path": str(tmp_path / "x.csv"), "products": PRODUCTS}
    )
    table = ProductTable(config.products)
    plain = {"时段开始": "2026-11-23 09:00", "险种": "安心车险", "来电量": "4"}
    with_branch = {**plain, "分公司": "广州分公司"}
    a = to_raw_count(plain, config, table, NOW)
    b = to_raw_count(with_branch, config, table, NOW)
    assert a.branch == "" and b.branch == "广州分公司"
    assert a.raw_key != b.raw_key
    # the key of a row without a branch is what it was before branches were counted
    assert a.raw_key == "1787fbfbefa1a9a6816b117abd4756f7ad8aa685dfe70384098f87fab383c5c6"

    path = tmp_path / "cti.csv"
    path.write_text(
        "时段开始,险种,分公司,来电量\n2026-11-23 09:00,安心车险,广州分公司,4\n", encoding="utf-8"
    )
    result = run(factory, "cti", "counts", csv_source(path))
    assert (result.counts, result.quarantined) == (4, 0)
    run(factory, "cti", "counts", csv_source(path))  # delivered again: replaced, not added
    with factory() as session:
        stored = session.execute(
            select(ComplaintCount.branch, func.sum(ComplaintCount.count))
            .where(ComplaintCount.source == "cti")
            .group_by(ComplaintCount.branch)
        ).all()
    assert stored == [("广州分公司", 4)]
