"""The hostile corpus through the SQL and count-only sources (issue 19, "keep them shut").

A compromised CRM database or CTI export can put anything in any column: each value of the corpus
goes into every label and the text, with PII in many spellings. Collection must not fail, and
what is stored (complaints, counts, quarantine) must be inert and hold no raw identifier.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.orm import Session

from collectors.counts import CountsCollector
from collectors.pii import fold_text
from collectors.sql_query import SqlCollector
from config.sources import CountsSource, SqlSource
from storage.models import ComplaintCount, QuarantinedRecord
from tests.collectors.helpers import run
from tests.hostile.corpus import FORMULAS
from tests.hostile.test_corpus_paths import (
    CORPUS,
    HEADER,
    PII,
    RAW_IDENTIFIERS,
    UNSAFE,
    assert_clean,
    records,
)


def crm_database(url: str, rows: list[dict[str, str]]) -> None:
    """A real source database: one text column per complaint field, plus a mobile column."""
    engine = create_engine(url)
    table = Table(
        "crm_tickets",
        MetaData(),
        *[Column(name, Text if name == "text" else String) for name in HEADER],
        Column("mobile", String),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(
            table.insert(), [{**r, "mobile": PII[i % len(PII)]} for i, r in enumerate(rows)]
        )
    engine.dispose()


def test_sql_source_takes_the_corpus(factory, engine, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    crm_database(url, records(now))
    monkeypatch.setenv("RADAR_TEST_CRM_URL", url)
    source = SqlSource.model_validate(
        {
            "name": "crm",
            "kind": "sql",
            "url_env": "RADAR_TEST_CRM_URL",
            "query": "SELECT * FROM crm_tickets",
            "cursor_column": "received_at",
            "id_column": "id",
            "batch_size": 7,
            "columns": {"customer_phone": "mobile"},
        }
    )
    collector = SqlCollector(source)
    for _ in range(20):
        result = run(factory, "crm", "sql", collector, now)
        assert result.error == "", result.error
        if not result.more and result.fetched == 0:
            break
    assert_clean(engine)


def counts_csv(now: datetime) -> str:
    """Every corpus value as each label of a count row; counts that are formulas or junk too."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(["时段开始", "产品代码", "险种", "险类", "地区", "类别", "事件", "渠道", "来电量"])
    start = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    for i, value in enumerate(CORPUS):
        label = value[:300]
        at = (start + timedelta(minutes=15 * (i % 8))).isoformat()
        out.writerow([at, label, label, label, label, label, label, "hotline", i % 5 + 1])
    for i, formula in enumerate([*FORMULAS, *PII, "\x00", "１２"]):
        out.writerow(
            [start.isoformat(), f"P{i}", "", "", PII[i % len(PII)], "", "", "热线", formula]
        )
    return buffer.getvalue()


def test_counts_source_takes_the_corpus(factory, engine, tmp_path):
    now = datetime.now(UTC)
    path = tmp_path / "cti.csv"
    path.write_bytes(counts_csv(now).encode("gb18030"))
    source = CountsSource.model_validate({"name": "cti", "kind": "counts", "path": path})
    result = run(factory, "cti", "counts", CountsCollector(source), now)
    assert result.error == "", result.error
    assert result.counts > 0 and result.quarantined > 0
    with Session(engine) as session:
        counts = list(session.scalars(select(ComplaintCount)))
        quarantine = list(session.scalars(select(QuarantinedRecord)))
    assert counts
    for row in counts:
        for cell in (row.channel, row.product_code, row.product_line, row.region, row.category,
                     row.event_tag):  # fmt: skip
            assert not UNSAFE.search(cell or ""), cell[:80]
            assert not [r for r in RAW_IDENTIFIERS if r in fold_text(cell or "")], cell[:80]
    for record in quarantine:
        text = fold_text(f"{record.external_id} {record.reason} {record.payload}")
        assert not [r for r in RAW_IDENTIFIERS if r in text], text[:200]
