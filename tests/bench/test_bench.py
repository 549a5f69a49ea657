"""Behaviour of the benchmark code (not its speed): selection, verdicts, tables, data, the command."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from bench.figures import Figure, markdown_table
from bench.history import HistorySpec, branch_shares, counts_of, day_frame
from bench.ingest import ListCollector
from bench.records import raw_records
from bench.suite import select_benchmarks
from collectors.runner import normalize_all
from config.settings import PROJECT_ROOT


def test_only_selects_by_prefix_and_rejects_unknown_names():
    assert select_benchmarks("ingest") == ["ingest-sqlite", "ingest-postgres"]
    assert select_benchmarks("tick-postgres,latency") == ["tick-postgres", "latency"]
    assert "dashboard-sqlite" in select_benchmarks(None)
    with pytest.raises(ValueError, match="unknown benchmark"):
        select_benchmarks("ingest,warp-drive")


def test_verdict_uses_target_direction_and_ratio_target():
    fast = Figure("a", "A", 60_000, "complaints/s", target=50_000, reference=100_000,
                  ratio_target=0.3)  # fmt: skip
    assert fast.ratio == pytest.approx(0.6) and fast.passed is True
    low_ratio = Figure("b", "B", 60_000, "complaints/s", target=50_000, reference=300_000,
                       ratio_target=0.3)  # fmt: skip
    assert low_ratio.passed is False
    slow_tick = Figure("c", "C", 1.5, "s/tick", target=1.0, higher_is_better=False)
    assert slow_tick.passed is False
    assert Figure("d", "D", 3.0, "s").passed is None
    table = markdown_table([fast, slow_tick])
    assert "| A | 60,000 complaints/s | ≥ 50,000 complaints/s | 0.60 × reference" in table
    assert "≤ 1.000 s/tick" in table and "MISS" in table and "PASS" in table


def test_list_collector_pages_through_everything_once():
    collector = ListCollector([{"id": str(i)} for i in range(2500)], batch=1000)
    now = datetime.now(UTC)
    seen, cursor, more = [], "", True
    while more:
        batch = collector.fetch(cursor, now)
        seen += [r["id"] for r in batch.records]
        cursor, more = batch.cursor, batch.has_more
    assert seen == [str(i) for i in range(2500)]


def test_raw_records_pass_normalisation_and_carry_masked_pii():
    good, bad = normalize_all(raw_records(300), "bench", datetime(2026, 11, 23, 3, tzinfo=UTC))
    assert not bad and len(good) == 300
    assert not any(re.search(r"1[3-9]\d{9}", c.text) for c in good)  # phones masked
    assert not any(c.customer_key == "" for c in good)
    assert len({c.external_id for c in good}) < 300  # some re-deliveries for dedupe to skip


def test_history_days_are_the_same_whatever_the_length():
    """The 1M and 3M databases share their recent days: what makes the two ticks comparable."""
    short = HistorySpec(products=50, days=3, per_day=200, label="t")
    long = HistorySpec(products=50, days=9, per_day=200, label="t")
    for k in (0, 2):
        a, b = day_frame(short, k), day_frame(long, k)
        assert a.equals(b)
    frame = day_frame(short, 0)
    assert counts_of(frame)["count"].sum() == len(frame)
    assert frame["external_id"].is_unique


def test_history_complaints_have_branches_under_their_province():
    """A realistic per-branch monthly table: 分公司 with 中心支公司 under them, sizes skewed."""
    frame = day_frame(HistorySpec(products=50, days=1, per_day=20_000, label="t"), 0)
    sizes = frame["branch"].value_counts()
    assert 40 < len(sizes) < 120 and sizes.iloc[0] > 10 * sizes.iloc[-1]
    for branch, region in zip(frame["branch"], frame["region"], strict=True):
        assert branch == f"{region}分公司" or branch in branch_shares(region)[0]
    assert set(counts_of(frame).groupby("branch")["count"].sum().items()) == set(sizes.items())


def test_bench_command_runs_and_prints_figures_with_targets(tmp_path):
    table = tmp_path / "figures.md"
    process = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "bench", "--quick",
         "--only", "ingest-sqlite", "--markdown", str(table)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    out = process.stdout
    assert "Ingest → SQLite" in out and "target ≥ 5,000 complaints/s" in out
    assert "× raw executemany" in out and "peak" in out and "CPUs" in out
    assert len(re.findall(r"host speed: Python [\d.]+ M loop steps/s, SQLite [\d,]+k", out)) == 2
    written = table.read_text(encoding="utf-8")
    assert "| Ingest → SQLite |" in written and "Measured" in written
    assert written.count("host speed: Python") == 2  # at the start and at the end


def test_bench_command_rejects_an_unknown_benchmark():
    process = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "bench", "--only", "nonsense"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert process.returncode == 2 and "unknown benchmark" in process.stderr


@pytest.mark.postgres
def test_postgres_history_keeps_every_index_on_every_partition(postgres_engine):
    """The builder drops the secondary indexes for the load and recreates them: on partitioned
    ``complaints`` they must come back valid and on every partition, as the migrations make them
    (a benchmark on a history without them measures another database)."""
    from bench.databases import POSTGRES_URL
    from bench.history import build_postgres
    from storage.models import Complaint

    schema = f"bench_test_{datetime.now(UTC):%H%M%S%f}"
    spec = HistorySpec(products=20, days=2, per_day=100, label="t")
    build_postgres(spec, schema)
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            invalid = conn.execute(
                text("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = :s AND NOT i.indisvalid"), {"s": schema}
            ).scalar()  # fmt: skip
            per_partition = conn.execute(
                text("SELECT p.relname, count(i.indexrelid) FROM pg_inherits h "
                     "JOIN pg_class p ON p.oid = h.inhrelid "
                     "JOIN pg_class t ON t.oid = h.inhparent AND t.relname = 'complaints' "
                     "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = :s "
                     "LEFT JOIN pg_index i ON i.indrelid = p.oid GROUP BY p.relname"), {"s": schema}
            ).all()  # fmt: skip
        assert invalid == 0
        expected = len(Complaint.metadata.tables["complaints"].indexes) + 1  # and the primary key
        assert per_partition and all(n == expected for _, n in per_partition), per_partition
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_ingest_figure_is_the_median_of_its_runs_each_on_a_fresh_database(tmp_path):
    from functools import partial

    from bench.databases import scratch_sqlite
    from bench.ingest import measure

    figure = measure("ingest-sqlite", "I", partial(scratch_sqlite, tmp_path), raw_records(300),
                     50_000, runs=3)  # fmt: skip

    details = figure.details
    rates, raw_rates, plain_rates = details["rates"], details["raw_rates"], details["plain_rates"]
    assert len(rates) == len(raw_rates) == len(plain_rates) == 3
    assert round(figure.value) == sorted(rates)[1]
    assert figure.reference is not None
    assert round(figure.reference) == sorted(raw_rates)[1]
    assert details["plain_rate"] == sorted(plain_rates)[1]
    assert details["stored"] == len({r["id"] for r in raw_records(300)})  # fresh each time
    assert not list(tmp_path.glob("*.db"))


@pytest.mark.parametrize("plain", [False, True])
def test_raw_reference_stores_the_normalised_rows(tmp_path, plain):
    """The reference really writes the rows: into complaints each key once, with the model's
    defaults (else the ratio compares the path with a failed or empty insert)."""
    from functools import partial

    from bench.databases import scratch_sqlite
    from bench.ingest import run_raw

    records = raw_records(300)
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    with partial(scratch_sqlite, tmp_path)() as engine:
        run_raw(engine, records, now, plain=plain)
        with engine.connect() as conn:
            table = "bench_raw" if plain else "complaints"
            stored = conn.scalar(text(f"SELECT count(*) FROM {table}"))
            if not plain:
                flags = conn.execute(text("SELECT DISTINCT is_repeat, is_multichannel "
                                          "FROM complaints")).all()  # fmt: skip
                assert flags == [(0, 0)]
    good, _ = normalize_all(records, "bench", now)
    assert stored == (len(good) if plain else len({c.external_id for c in good}))
    assert stored < len(good) or plain  # raw_records repeats some ids: the dedupe is exercised


def test_detection_bench_quick_prints_the_synthetic_and_real_data_figures():
    """`bench --only detection --quick`: one tuning stream, then the real series beside it."""
    process = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "bench", "--quick", "--only", "detection"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    out = process.stdout
    assert "tuning set: 1 labelled streams" in out and "held-out set: skipped" in out
    assert re.search(r"tuning overall\n  rules.yaml +recall [\d.]+ \(\d+/28\)", out)
    assert "situations" in out and "| event kind | recall |" in out
    assert "real data: nab-realtweets" in out
    assert re.search(r"\| Complaint Radar, all rules \| \d+/13 \| \d+ \| \d+ \(", out)
    assert "| same hour, previous 7 days, z >= 3 | " in out
