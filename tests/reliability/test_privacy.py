"""PIPL: personal data seeded into a source never reaches any table, column or log line.

A real worker process collects from a loopback complaint API whose records carry phone numbers,
ID card numbers, bank card numbers and e-mail addresses in every field (text, identity fields,
labels, even the ticket id), plus records bad enough to be quarantined. Then every column of
every table and the worker's whole log are searched for the raw values.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Engine, MetaData, select

from collectors.pii import fold_text
from dashboard.pages.ledger import ledger_csv
from dashboard.report import build_weekly_report, to_excel
from dashboard.timeutil import monday_of
from domain.calendar import HolidayCalendar
from tests.reliability.helpers import ComplaintApi, WorkerProcess, wait_for
from tests.reliability.scenario import radar_config, source_state, stored_state, threshold_rule

CALENDAR = HolidayCalendar()  # Asia/Shanghai, chinesecalendar's holidays

PHONES = ["13912345678", "+86 139 8765 4321", "139-2468-1357"]
ID_CARDS = ["11010519491231002X", "440308199001011234"]
BANK_CARDS = ["6222 0212 3456 7890 123", "6228480402564890018"]
EMAILS = ["zhang.san.pii@example.com", "lisi_1990@qq.com"]
# Spellings people type that the patterns missed before issue 19: full-width digits, dots,
# zero-width marks, full-width ＠, a 15-digit ID card (the scan looks at folded text too).
SPELLINGS = [
    "１３８００１３８０００",
    "138.0013.9000",
    "138\u200b0014\u200b0000",
    "110105491231002",
    "wang.wu.pii＠example.com",
]


def needles() -> list[str]:
    """The raw values, and digit-only spellings of the numbers (a stored '13987654321' is a leak too)."""
    out = set(PHONES + ID_CARDS + BANK_CARDS + EMAILS + SPELLINGS)
    out |= {fold_text(s) for s in SPELLINGS} | {"wang.wu.pii"}
    for value in PHONES + ID_CARDS + BANK_CARDS + SPELLINGS[:4]:
        digits = re.sub(r"\D", "", value)
        out.add(digits[-11:] if value.startswith("+86") else digits)
    # An unsalted hash of a phone is as good as the phone: it must not be stored either.
    out |= {hashlib.sha256(re.sub(r"\D", "", p)[-11:].encode()).hexdigest()[:32] for p in PHONES}
    return sorted(out)


def seeded_records(now: datetime) -> list[dict]:
    at = (now - timedelta(minutes=10)).astimezone(UTC)
    records: list[dict[str, Any]] = []
    for i in range(8):
        records.append(
            {
                "id": f"web-{i}",
                "received_at": (at + timedelta(seconds=30 * i)).isoformat(),
                "channel": "web",
                "product_code": "HLT-PII",
                "product_name": f"百万医疗险 {PHONES[i % 3]}",
                "region": f"广东 {PHONES[(i + 1) % 3]}",
                "category": "理赔",
                "event_tag": EMAILS[i % 2],
                "text": (
                    f"理赔被拒，本人手机{PHONES[i % 3]}，身份证{ID_CARDS[i % 2]}，"
                    f"退款请打到银行卡 {BANK_CARDS[i % 2]}，邮箱 {EMAILS[i % 2]}。"
                    f"另留{SPELLINGS[i % len(SPELLINGS)]}"
                ),
                "customer_id": ID_CARDS[i % 2],
                "customer_phone": PHONES[i % 3],
            }
        )
    # A ticket id that is itself a phone number, and records the collector must quarantine.
    records.append({**records[0], "id": PHONES[0]})
    records.append({**records[1], "id": SPELLINGS[0], "customer_phone": SPELLINGS[1]})
    records.append({**records[1], "id": "bad-channel", "channel": f"热线{PHONES[1]}"})
    records.append({**records[2], "id": "bad-time", "received_at": f"昨天 {ID_CARDS[0]}"})
    records.append({**records[3], "id": "no-time", "received_at": None, "text": BANK_CARDS[1]})
    return records


def scan_database(engine: Engine, values: list[str]) -> list[str]:
    """Every cell of every table, as text; returns 'table.column: value' for each hit."""
    metadata = MetaData()
    metadata.reflect(engine)
    hits = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, cell in zip(table.columns, row, strict=True):
                    hits += [f"{table.name}.{column.name}: {v}" for v in leaks(str(cell), values)]
    return hits


def leaks(text: str, values: list[str]) -> list[str]:
    """The values found in ``text`` as stored or as a reader would see it (folded)."""
    folded = fold_text(text)
    return [v for v in values if v in text or v in folded]


def test_no_raw_personal_data_in_database_or_logs(engine, db_url, tmp_path):
    api = ComplaintApi()
    now = datetime.now(UTC)
    api.add(seeded_records(now))
    http_source = {
        "name": "webform",
        "kind": "http_api",
        "url": f"{api.base}/complaints",
        "records_path": "items",
        "interval_seconds": 5,
        "max_attempts": 1,
    }
    sim = {"name": "sim", "kind": "simulator", "backfill_hours": 1, "interval_seconds": 60}
    config_dir = radar_config(tmp_path / "config", [http_source, sim], rules=[threshold_rule(3)])
    worker = WorkerProcess(
        db_url, config_dir, tmp_path / "worker.log", env={"RADAR_LOG_LEVEL": "DEBUG"}
    )
    try:
        worker.start()
        wait_for(lambda: (s := source_state(engine, "webform")) and s.total_records, 90, "ingest")
        # The worker's jobs start side by side: the simulator's alerts may be notified first.
        wait_for(
            lambda: any(
                "HLT-PII" in notice and "理赔被拒" in notice
                for notice in worker.log_text().split("NOTIFY")[1:]
            ),
            60,
            "the HLT-PII alert to be notified to the log",
        )
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()
        api.close()

    state = stored_state(engine, "webform")
    assert state.total_records == 10 and state.quarantined_last_run == 3, state.__dict__
    values = needles()
    assert scan_database(engine, values) == []
    # Exports built from what was stored: the ledger CSV (with texts) and the weekly workbook.
    span = (now - timedelta(days=1), now + timedelta(hours=1), (), ())
    ledger = ledger_csv(engine, span, now, "calendar", CALENDAR, "zh", with_text=True).decode(
        "utf-8-sig"
    )
    assert "理赔被拒" in ledger and leaks(ledger, values) == []
    book = load_workbook(
        io.BytesIO(to_excel(build_weekly_report(engine, monday_of(now.date()), CALENDAR)))
    )
    cells = " ".join(str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r)
    assert leaks(cells, values) == []
    log = worker.log_text()
    assert "HLT-PII" in log and "理赔被拒" in log, (
        "the notification (with a masked sample) was logged"
    )
    leaked = leaks(log, values)
    assert leaked == [], leaked
    # The masked forms are what remain: the last four digits and the mail domain.
    with engine.connect() as conn:
        texts = [
            r[0]
            for r in conn.exec_driver_sql("select text from complaints where source = 'webform'")
        ]
    assert any("5678" in t and "@example.com" in t for t in texts), texts[:2]
