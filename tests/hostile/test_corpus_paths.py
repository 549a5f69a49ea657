"""The hostile-input corpus through the ingest paths a complaint can take (issue 19).

One CSV file carries every corpus string in every field (Markdown, formulas, control, bidi and
zero-width characters, NUL, links, PII in many spellings, a 100,000-character text, bytes that
are not UTF-8) and goes through ``manage.py import`` and ``manage.py backtest`` as real
processes; the same records go through an HTTP source and a JSON Feed served on loopback.
Nothing may crash, and what is stored holds no control character, no bidi override and no raw
identifier.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from collectors.feed import FeedCollector
from collectors.http_api import HttpApiCollector
from collectors.pii import fold_text
from config.settings import PROJECT_ROOT
from config.sources import FeedSource, HttpApiSource
from storage.models import Complaint, QuarantinedRecord
from tests.collectors.helpers import run
from tests.hostile.corpus import CONTROL, FORMULAS, LINKS, MARKDOWN
from tests.reliability.helpers import ComplaintApi

PII = ["１３８００１３８０００", "138.0013.9000", "138\u200b0014\u200b0000", "110105491231002",
       "11010519491231002X", "wang.wu.pii＠example.com"]  # fmt: skip
RAW_IDENTIFIERS = ["13800138000", "13800139000", "13800140000", "110105491231002",
                   "11010519491231002", "wang.wu.pii"]  # fmt: skip
CORPUS = MARKDOWN + FORMULAS + LINKS + CONTROL + PII + ["长" * 100_000, "\ufeff\ufffe", ""]
HEADER = ["id", "received_at", "channel", "product_code", "product_name", "product_line",
          "region", "category", "event_tag", "text"]  # fmt: skip
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200b]")


def records(now: datetime) -> list[dict[str, str]]:
    at = now - timedelta(hours=2)
    out = []
    for i, value in enumerate(CORPUS):
        label = value[:200]
        out.append({
            "id": f"h-{i}", "received_at": (at + timedelta(minutes=i)).isoformat(),
            "channel": "hotline", "product_code": label, "product_name": label,
            "product_line": label, "region": label, "category": label, "event_tag": label,
            "text": f"{value} 联系 {PII[i % len(PII)]}",
        })  # fmt: skip
    out.append({**out[0], "id": PII[0]})  # a phone as the ticket id
    return out


def corpus_csv(path: Path, now: datetime, encoding: str = "gb18030") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HEADER)
    writer.writeheader()
    writer.writerows(records(now))
    path.write_bytes(buffer.getvalue().encode(encoding))  # GB18030: not UTF-8, as many exports
    return path


def assert_clean(engine) -> None:
    with Session(engine) as session:
        stored = list(session.scalars(select(Complaint)))
        quarantine = list(session.scalars(select(QuarantinedRecord)))
    assert len(stored) >= len(CORPUS) - 2
    for row in stored:
        cells = [row.external_id, row.product_code, row.product_name, row.product_line,
                 row.region, row.category, row.event_tag, row.text]  # fmt: skip
        for cell in cells:
            assert not UNSAFE.search(cell or ""), (row.external_id, cell[:80])
            folded = fold_text(cell or "")
            assert not [r for r in RAW_IDENTIFIERS if r in folded], (row.external_id, cell[:80])
    for record in quarantine:
        text = fold_text(f"{record.external_id} {record.reason} {record.payload}")
        assert not [r for r in RAW_IDENTIFIERS if r in text], text[:200]


def test_import_and_backtest_take_the_corpus(tmp_path):
    now = datetime.now(UTC)
    path = corpus_csv(tmp_path / "hostile.csv", now)
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    env = {"RADAR_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    imported = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "import", str(path), "--source", "hotline"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "Traceback" not in imported.stderr
    engine = create_engine(url)
    assert_clean(engine)
    engine.dispose()
    out = tmp_path / "alerts.jsonl"
    path = corpus_csv(tmp_path / "hostile-utf8.csv", now, "utf-8")  # the backtest reads UTF-8
    backtest = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest", "--complaints", str(path),
         "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert backtest.returncode == 0, backtest.stderr[-2000:]
    assert "Traceback" not in backtest.stderr
    for line in out.read_text(encoding="utf-8").splitlines():
        json.loads(line)


def test_bytes_that_no_encoding_reads_are_refused_with_a_reason(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,received_at,channel\nx,\xff\xfe\x80\x81\xfe\xff,hotline\n")
    env = {"RADAR_DATABASE_URL": f"sqlite:///{tmp_path / 'radar.db'}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "import", str(path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1 and "unknown encoding" in result.stderr
    assert "Traceback" not in result.stderr


def test_http_source_takes_the_corpus(factory, engine):
    now = datetime.now(UTC)
    api = ComplaintApi()
    try:
        api.add(records(now))
        source = HttpApiSource.model_validate(
            {
                "name": "web",
                "kind": "http_api",
                "url": f"{api.base}/complaints",
                "records_path": "items",
                "max_attempts": 1,
            }
        )
        for _ in range(5):
            result = run(factory, "web", "http_api", HttpApiCollector(source), now)
            assert result.error == "", result.error
    finally:
        api.close()
    assert_clean(engine)


def test_feed_source_takes_the_corpus(factory, engine, httpserver):
    """Social listening: posts (JSON Feed) whose titles and bodies are the corpus."""
    now = datetime.now(UTC)
    items = [
        {"id": f"f-{i}", "title": value[:500], "content_text": f"{value} 联系 {PII[i % len(PII)]}",
         "date_published": (now - timedelta(minutes=30 + i)).isoformat()}
        for i, value in enumerate(CORPUS)
    ]  # fmt: skip
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "舆情", "items": items}
    httpserver.expect_request("/feed.json").respond_with_data(
        json.dumps(feed, ensure_ascii=False), content_type="application/feed+json"
    )
    source = FeedSource.model_validate(
        {"name": "weibo", "kind": "feed", "url": httpserver.url_for("/feed.json"),
         "backoff_seconds": 0}
    )  # fmt: skip
    result = run(factory, "weibo", "feed", FeedCollector(source, sleep=lambda _s: None), now)
    assert result.error == "" and result.inserted >= len(CORPUS) - 2, result
    assert_clean(engine)
