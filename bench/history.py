"""Synthetic complaint history for the tick and dashboard benchmarks, written in bulk and cached.

Day ``k`` before the end is always drawn from seed ``k``: a 1M-complaint database (fewer days)
and a 3M one share exactly the same recent days, so their ticks see the same active series.
Complaints and their 5-minute counts are written directly (SQLite ``executemany`` in one big
transaction, PostgreSQL ``COPY``), not through the collector path, which ``ingest`` measures.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text

from bench.databases import CACHE_DIR, POSTGRES_URL, schema_engine
from collectors.simulator import HOUR_PROFILE
from domain.vocabulary import CATEGORIES, PRODUCT_LINES, PROVINCES
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.partitions import add_months, month_of, partition_name

END = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
VERSION = 3  # 3: complaints and counts carry a branch office
# 2: complaints partitioned by month (migration 0004); 3: its indexes rebuilt on every partition
POSTGRES_LAYOUT = 3
CHANNELS = ["hotline", "web", "app", "social", "regulator", "counter"]
CHANNEL_P = [0.5, 0.17, 0.12, 0.15, 0.03, 0.03]
# Varied texts, as real complaints are: a phrase, the product, a number and a closing remark.
PHRASES = np.array(
    [
        "理赔申请提交很久了还没有结果，客服一直说在审核，",
        "销售人员承诺可以随时退保全额返还，现在退保只退了一部分，",
        "续保时保费上涨没有任何通知，",
        "打了很多次客服电话都没人接，保全变更一直办不下来，",
        "定损金额远低于维修费用，对结果不认可，",
        "扣款后保单一直没有生效，",
        "健康告知时业务员没有说明，现在拒赔，",
        "App上保单信息显示错误，无法查询，",
    ]
)
CLOSINGS = np.array(["请尽快处理。", "请给个说法。", "非常失望。", "要求赔偿损失。", "麻烦回电。"])
COMPLAINT_COLUMNS = (
    "source", "external_id", "received_at", "collected_at", "channel", "product_code",
    "product_name", "product_line", "region", "category", "event_tag", "text", "customer_key",
    "branch", "is_repeat", "is_multichannel", "status", "is_complex",
)  # fmt: skip
COUNT_COLUMNS = (
    "bucket_start", "source", "channel", "product_code", "product_line", "region", "category",
    "event_tag", "branch", "count",
)  # fmt: skip
GROUP_COLUMNS = list(COUNT_COLUMNS[:-1])


# Prefecture cities of the bigger provinces whose 中心支公司 report to the province's 分公司
# (the capital's business is the 分公司's own). Smaller provinces have the 分公司 alone.
BRANCH_CITIES = {
    "广东": ("深圳", "佛山", "东莞", "惠州", "汕头", "湛江"),
    "山东": ("青岛", "烟台", "潍坊", "临沂"),
    "河南": ("洛阳", "南阳", "新乡"),
    "江苏": ("苏州", "无锡", "南通", "徐州", "常州"),
    "四川": ("绵阳", "德阳", "南充"),
    "河北": ("唐山", "保定", "邯郸"),
    "湖南": ("株洲", "衡阳", "岳阳"),
    "浙江": ("宁波", "温州", "嘉兴", "金华", "台州"),
    "安徽": ("芜湖", "蚌埠"),
    "湖北": ("宜昌", "襄阳"),
    "福建": ("厦门", "泉州", "漳州"),
}
OWN_SHARE = 0.4  # of a province's complaints, those of the 分公司's own business


def branch_shares(province: str) -> tuple[list[str], np.ndarray]:
    """A province's branch offices and their shares: the 分公司 first with ``OWN_SHARE``, then
    its 中心支公司 with Zipf-like shares of the rest (a big city, then ever smaller ones)."""
    cities = BRANCH_CITIES.get(province, ())
    names = [f"{province}分公司", *(f"{city}中心支公司" for city in cities)]
    if not cities:
        return names, np.ones(1)
    rest = 1.0 / np.arange(1, len(cities) + 1)
    return names, np.concatenate([[OWN_SHARE], (1 - OWN_SHARE) * rest / rest.sum()])


def assign_branches(regions: np.ndarray, seed: int) -> np.ndarray:
    """The branch office of each complaint, from its province. A generator of its own, so that
    every other column of a day stays what it was before branches were added."""
    rng = np.random.default_rng(seed)
    branches = np.empty(len(regions), dtype=object)
    for province in np.unique(regions):
        where = np.flatnonzero(regions == province)
        names, shares = branch_shares(str(province))
        branches[where] = np.array(names, dtype=object)[
            rng.choice(len(names), len(where), p=shares)
        ]
    return branches


@dataclass(frozen=True)
class HistorySpec:
    """``products`` × 31 provinces, ``days`` of history at ``per_day`` complaints a day."""

    products: int
    days: int
    per_day: int
    label: str

    @property
    def total(self) -> int:
        return self.days * self.per_day

    @property
    def key(self) -> str:
        return f"v{VERSION}_{self.label}_{self.products}p_{self.days}d_{self.per_day}"


def _product_weights(products: int) -> np.ndarray:
    """Zipf-like: a few big products, a long tail of small ones, as in a real portfolio."""
    weights = 1.0 / np.arange(1, products + 1) ** 0.8
    return weights / weights.sum()


def day_frame(spec: HistorySpec, k: int) -> pd.DataFrame:
    """Complaints of the ``k``-th day before END (k = 0 is the last 24 hours)."""
    rng = np.random.default_rng(1000 + k)
    day_end = END - timedelta(days=k)
    n = int(rng.poisson(spec.per_day))
    hours = rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
    # HOUR_PROFILE is in Shanghai time: shift by -8 h to UTC seconds within the day window.
    seconds = (hours * 3600 + rng.integers(0, 3600, size=n) - 8 * 3600) % 86400
    start = np.datetime64((day_end - timedelta(days=1)).replace(tzinfo=None), "s")
    midnight = np.datetime64(start, "D")  # type: ignore[call-overload]  # numpy stubs: no datetime64(datetime64, unit)
    stamps = midnight + seconds.astype("timedelta64[s]")
    stamps = np.where(stamps < start, stamps + np.timedelta64(1, "D"), stamps)
    products = rng.choice(spec.products, size=n, p=_product_weights(spec.products))
    provinces = np.array(list(PROVINCES))
    population = np.array(list(PROVINCES.values()))
    regions = rng.choice(provinces, size=n, p=population / population.sum())
    frame = pd.DataFrame(
        {
            "received_at": stamps.astype("datetime64[us]"),
            "product": products,
            "region": regions,
            "channel": rng.choice(CHANNELS, size=n, p=CHANNEL_P),
            "category": rng.choice(CATEGORIES, size=n),
            "phrase": rng.choice(PHRASES, size=n),
            "closing": rng.choice(CLOSINGS, size=n),
            "days_waited": rng.integers(2, 60, size=n),
            "customer": rng.integers(0, 2_000_000, size=n),
            "event_tag": "",
        }
    )
    if k == 0:  # a group event in the last two hours so that rules have something to find
        burst = frame.iloc[: min(80, n)].copy()
        burst["product"] = 7
        burst["received_at"] = np.datetime64(END.replace(tzinfo=None), "us") - (
            rng.integers(60, 7200, size=len(burst)).astype("timedelta64[s]")
        )
        frame = pd.concat([frame, burst], ignore_index=True)
    frame = frame.sort_values("received_at", kind="stable").reset_index(drop=True)
    frame["source"] = "bench"
    frame["external_id"] = [f"H{k:03d}-{i:06d}" for i in range(len(frame))]
    digits = frame["product"].astype(str)
    frame["product_code"] = "P" + digits.str.zfill(5)
    frame["product_name"] = "产品" + digits + "号"
    frame["product_line"] = np.array(PRODUCT_LINES)[frame["product"] % len(PRODUCT_LINES)]
    frame["text"] = (
        frame["product_name"] + frame["phrase"] + "已经" + frame["days_waited"].astype(str)
        + "天了，" + frame["closing"]
    )  # fmt: skip
    frame["customer_key"] = "c" + frame["customer"].astype(str).str.zfill(31)
    frame["branch"] = assign_branches(frame["region"].to_numpy(), 50_000 + k)
    frame["bucket_start"] = frame["received_at"].dt.floor("5min")
    return frame


def counts_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(GROUP_COLUMNS, sort=True).size().rename("count").reset_index()


def _sqlite_stamp(values: pd.Series) -> list[str]:
    return values.dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()


def _days(spec: HistorySpec) -> Iterator[pd.DataFrame]:
    for k in range(spec.days - 1, -1, -1):  # oldest first: ids grow with time, as in production
        yield day_frame(spec, k)


def build_sqlite(spec: HistorySpec, path: Path) -> None:
    """Create the migrated schema, then bulk-load in one transaction without a journal."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    import sqlite3

    collected = END.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-500000")
    # Secondary indexes are dropped during the load and rebuilt once at the end (sorted, faster).
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('complaints', 'complaint_counts')"
    ).fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.execute("BEGIN")
    marks = ", ".join("?" * len(COMPLAINT_COLUMNS))
    for frame in _days(spec):
        received = _sqlite_stamp(frame["received_at"])
        rows = zip(
            frame["source"], frame["external_id"], received, [collected] * len(frame),
            frame["channel"], frame["product_code"], frame["product_name"],
            frame["product_line"], frame["region"], frame["category"], frame["event_tag"],
            frame["text"], frame["customer_key"], frame["branch"],
            strict=True,
        )  # fmt: skip
        connection.executemany(
            f"INSERT INTO complaints ({', '.join(COMPLAINT_COLUMNS)}) VALUES ({marks})",
            ((*row, 0, 0, "open", 0) for row in rows),
        )
        counts = counts_of(frame)
        counts["bucket_start"] = _sqlite_stamp(counts["bucket_start"])
        connection.executemany(
            f"INSERT INTO complaint_counts ({', '.join(COUNT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COUNT_COLUMNS))})",
            counts.itertuples(index=False, name=None),
        )
    connection.execute("COMMIT")
    for _, sql in indexes:
        connection.execute(sql)
    connection.execute("ANALYZE")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


def _copy_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """Tab-separated COPY text; generated values contain no tabs, newlines or backslashes."""
    buffer = io.StringIO()
    frame.loc[:, list(columns)].to_csv(buffer, sep="\t", header=False, index=False)
    return buffer.getvalue().encode()


def _create_partitions(cursor, spec: HistorySpec) -> None:
    """Monthly partitions for the whole history, so that no day lands in DEFAULT."""
    first = month_of(END - timedelta(days=spec.days))
    month = first
    while month <= month_of(END):
        cursor.execute("SELECT to_regclass(%s) IS NULL", (partition_name(month),))
        if cursor.fetchone()[0]:
            lo, hi = month.isoformat(), add_months(month, 1).isoformat()
            cursor.execute(
                f"CREATE TABLE {partition_name(month)} PARTITION OF complaints "
                f"FOR VALUES FROM ('{lo} 00:00:00+00') TO ('{hi} 00:00:00+00')"
            )
        month = add_months(month, 1)


def build_postgres(spec: HistorySpec, schema: str) -> None:
    """Create the schema, migrate it, then COPY every day in; ``bench_done`` marks it complete."""
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = schema_engine(schema)
    upgrade_to_head(engine)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
            "AND tablename IN ('complaints', 'complaint_counts') AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)",
            (schema,),
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        _create_partitions(cursor, spec)
        for frame in _days(spec):
            frame["received_at"] = frame["received_at"].dt.strftime("%Y-%m-%d %H:%M:%S+00")
            frame["collected_at"] = END.isoformat()
            frame["is_repeat"] = "f"
            frame["is_multichannel"] = "f"
            frame["status"] = "open"
            frame["is_complex"] = "f"
            with cursor.copy(
                f"COPY complaints ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN"
            ) as copy:
                copy.write(_copy_text(frame, COMPLAINT_COLUMNS))
            counts = counts_of(frame.assign(bucket_start=frame["bucket_start"]))
            counts["bucket_start"] = counts["bucket_start"].dt.strftime("%Y-%m-%d %H:%M:%S+00")
            with cursor.copy(
                f"COPY complaint_counts ({', '.join(COUNT_COLUMNS)}) FROM STDIN"
            ) as copy:
                copy.write(_copy_text(counts, COUNT_COLUMNS))
        for _, sql in indexes:
            # A partitioned table's index reads "ON ONLY complaints" in pg_indexes: run as is,
            # it would make an invalid index on the parent alone and none on the partitions.
            cursor.execute(sql.replace(" ON ONLY ", " ON ", 1))
        cursor.execute(  # the global idempotency key, as ingest would have written it
            "INSERT INTO complaint_keys (source, external_id, complaint_id, received_at) "
            "SELECT source, external_id, id, received_at FROM complaints"
        )
        cursor.execute("ANALYZE complaints")
        cursor.execute("ANALYZE complaint_keys")
        cursor.execute("ANALYZE complaint_counts")
        cursor.execute("CREATE TABLE bench_done (built_at TIMESTAMPTZ)")
        connection.commit()
    finally:
        connection.close()
        engine.dispose()


def sqlite_history(spec: HistorySpec) -> Engine:
    """The cached SQLite database for ``spec`` under data/bench/, built on first use."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"history_{spec.key}.db"
    if not path.exists():
        partial = path.with_suffix(f".partial{os.getpid()}")
        build_sqlite(spec, partial)
        partial.rename(path)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)  # a cache built before a later migration gets its indexes too
    return engine


def postgres_history(spec: HistorySpec) -> Engine:
    """The cached PostgreSQL schema ``bench_<key>`` for ``spec``, built on first use."""
    schema = f"bench_{spec.key}_pg{POSTGRES_LAYOUT}".lower()
    admin = create_engine(POSTGRES_URL)
    with admin.connect() as conn:
        done = conn.execute(
            text("select 1 from information_schema.tables where table_schema = :s "
                 "and table_name = 'bench_done'"),
            {"s": schema},
        ).first()  # fmt: skip
    admin.dispose()
    if not done:
        build_postgres(spec, schema)
    engine = schema_engine(schema)
    upgrade_to_head(engine)  # a cache built before a later migration gets its indexes too
    return engine
