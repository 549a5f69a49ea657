"""Re-keying stored history after a product alias is added: nothing lost, nothing counted twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from config.settings import PROJECT_ROOT
from config.sources import ProductAlias
from domain.products import ProductTable
from domain.records import NormalizedComplaint, RawCount
from storage.ingest import deliver_counts, ingest_complaints
from storage.models import Complaint, ComplaintCount, CountDelivery, MonthlySnapshot
from storage.rekey import apply_rekey, plan_rekey

T0 = datetime(2026, 11, 20, 2, 1, tzinfo=UTC)
TABLE = ProductTable(
    [ProductAlias(code="ACC-001", name="安心意外险", line="意外险", aliases=["安心险", "OLD-7"])]
)


def complaint(external_id, code, name, at=T0, customer="", source="web", line=""):
    return NormalizedComplaint(
        source=source,
        external_id=external_id,
        received_at=at,
        collected_at=at,
        channel="hotline",
        product_code=code,
        product_name=name,
        product_line=line,
        region="广东",
        category="理赔",
        customer_key=customer,
    )


def counts_by_code(session, source="web") -> dict[str, int]:
    rows = session.execute(
        select(ComplaintCount.product_code, func.sum(ComplaintCount.count))
        .where(ComplaintCount.source == source)
        .group_by(ComplaintCount.product_code)
    )
    return {code: int(total) for code, total in rows}


def test_history_stored_under_a_name_joins_the_product_s_code(session):
    # Before the alias: keyed by name (and by a nickname); after: by the code. One bucket holds
    # complaints under both keys, so its rows must add up, not overwrite each other.
    before = [
        complaint(f"a{i}", "安心意外险", "安心意外险", T0 + timedelta(minutes=i)) for i in range(3)
    ]
    before.append(complaint("n1", "安心险", "安心险", T0))
    after = [
        complaint(f"b{i}", "ACC-001", "安心意外险", T0 + timedelta(minutes=i), line="意外险")
        for i in range(2)
    ]
    after.append(complaint("other", "CAR-9", "车险九号", T0))
    ingest_complaints(session, before + after)
    session.commit()
    assert counts_by_code(session) == {"安心意外险": 3, "安心险": 1, "ACC-001": 2, "CAR-9": 1}

    plan = plan_rekey(session, "web", TABLE)
    assert counts_by_code(session)["安心意外险"] == 3  # planning changes nothing
    assert sorted(m.old[0] for m in plan.counts) == ["安心意外险", "安心险"]
    apply_rekey(session, plan)
    session.commit()

    assert counts_by_code(session) == {"ACC-001": 6, "CAR-9": 1}
    codes = session.execute(
        select(Complaint.product_code, Complaint.product_line, func.count()).group_by(
            Complaint.product_code, Complaint.product_line
        )
    ).all()
    assert sorted(codes) == [("ACC-001", "意外险", 6), ("CAR-9", "", 1)]
    first_bucket = session.scalars(
        select(ComplaintCount.count).where(
            ComplaintCount.product_code == "ACC-001",
            ComplaintCount.bucket_start == T0.replace(minute=0),
        )
    ).all()
    assert first_bucket == [6]  # one row: the moved rows were merged into the existing one
    assert not plan_rekey(session, "web", TABLE)  # a second run finds nothing to move


def test_only_the_named_source_moves(session):
    ingest_complaints(
        session,
        [complaint("a", "安心险", "安心险"), complaint("a", "安心险", "安心险", source="app")],
    )
    session.commit()
    apply_rekey(session, plan_rekey(session, "web", TABLE))
    session.commit()
    assert counts_by_code(session, "web") == {"ACC-001": 1}
    assert counts_by_code(session, "app") == {"安心险": 1}


def test_a_count_only_redelivery_after_the_move_replaces_instead_of_adding(session):
    def row(count, code):
        return RawCount("row-1", T0.replace(minute=0), 15, count, "hotline", product_code=code)

    deliver_counts(session, "cti", [row(5, "OLD-7")], T0)
    session.commit()
    apply_rekey(session, plan_rekey(session, "cti", TABLE))
    session.commit()
    assert counts_by_code(session, "cti") == {"ACC-001": 5}
    assert session.scalar(select(CountDelivery.product_code)) == "ACC-001"
    # The CTI sends the same interval again, corrected, now resolved to the code by the alias.
    deliver_counts(session, "cti", [row(7, "ACC-001")], T0 + timedelta(hours=1))
    session.commit()
    assert counts_by_code(session, "cti") == {"ACC-001": 7}


def test_repeat_flags_see_the_customer_s_complaints_under_both_keys(session):
    ingest_complaints(
        session,
        [
            complaint("a", "安心险", "安心险", T0, customer="c1"),
            complaint("b", "ACC-001", "安心意外险", T0 + timedelta(days=3), "c1", line="意外险"),
        ],
    )
    session.commit()
    assert session.scalar(select(func.count()).where(Complaint.is_repeat)) == 0
    apply_rekey(session, plan_rekey(session, "web", TABLE))
    session.commit()
    repeats = session.scalars(select(Complaint.external_id).where(Complaint.is_repeat)).all()
    assert repeats == ["b"]


def test_counts_of_a_code_whose_complaints_went_to_two_products_are_left_and_reported(session):
    # One raw code "X" under two names: one now known, one not. Its counts cannot be split.
    ingest_complaints(
        session, [complaint("a", "X", "安心意外险"), complaint("b", "X", "另一个产品")]
    )
    session.commit()
    plan = plan_rekey(session, "web", TABLE)
    assert plan.ambiguous == [("X", "")]
    assert [m.old for m in plan.complaints] == [("X", "安心意外险", "")]
    apply_rekey(session, plan)
    session.commit()
    assert counts_by_code(session) == {"X": 2}  # left as they were, nothing lost
    assert sorted(session.scalars(select(Complaint.product_code))) == ["ACC-001", "X"]


def test_the_command_is_a_dry_run_unless_told_to_apply(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("rules.yaml", "roster.yaml", "routes.yaml", "channels.yaml"):
        (config / name).write_text((PROJECT_ROOT / "config" / name).read_text("utf-8"), "utf-8")
    (config / "sources.yaml").write_text(
        "sources:\n"
        "  - name: web\n"
        "    kind: csv_folder\n"
        f"    inbox: {tmp_path / 'inbox'}\n"
        "    products:\n"
        "      - {code: ACC-001, name: 安心意外险, line: 意外险, aliases: [安心险]}\n",
        "utf-8",
    )
    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = dict(os.environ, RADAR_DATABASE_URL=url, RADAR_CONFIG_DIR=str(config))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), "rekey-products", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade_to_head

    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        ingest_complaints(session, [complaint("a", "安心险", "安心险")])
        session.commit()
    dry = run()
    assert dry.returncode == 0, dry.stderr
    assert "安心险 /  → ACC-001 / 意外险: 1" in dry.stdout and "dry run" in dry.stdout
    with factory() as session:
        assert counts_by_code(session) == {"安心险": 1}
    applied = run("--apply")
    assert applied.returncode == 0, applied.stderr
    with factory() as session:
        assert counts_by_code(session) == {"ACC-001": 1}
    assert "nothing to move" in run().stdout
    unknown = run("--source", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    engine.dispose()


def test_moving_complaints_drops_monthly_snapshots_built_from_the_old_keys(session):
    # A snapshot's repeat and upgrade counts pair complaints by product: after a move they are
    # stale, and a page reading them would disagree with the live count.
    ingest_complaints(session, [complaint("a", "安心险", "安心险", customer="c1")])
    session.add(
        MonthlySnapshot(
            key="2026-11/rules", cycle="2026-11", built_at=T0, fingerprint="f", parts={}
        )
    )
    session.commit()
    apply_rekey(session, plan_rekey(session, "web", ProductTable([])))  # nothing to move
    session.commit()
    assert session.scalar(select(func.count()).select_from(MonthlySnapshot)) == 1
    apply_rekey(session, plan_rekey(session, "web", TABLE))
    session.commit()
    assert session.scalar(select(func.count()).select_from(MonthlySnapshot)) == 0
