"""Backfill: load a history export (CSV/Excel) once, with a progress bar and a summary.

Uses the same reading, mapping, normalisation and idempotent ingest as the live drop folder,
so importing a file twice, or a file the live source also delivers, stores each complaint once;
its bad rows are quarantined once too (each keeps its file name and line as external id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from collectors.files import read_table, table_records
from collectors.normalize import DEFAULT_ZONE
from collectors.runner import GROUP_RECORDS, normalize_all, rejected
from domain.products import ProductTable
from storage.db import session_scope
from storage.ingest import ingest_complaints, quarantine

# Rows per transaction, as a collector's backfill groups its pages: each commit rewrites every
# index page the rows' random keys touched, and 2,000-row commits made a 100,000-row import a
# third slower (docs/PERFORMANCE.md, "Import").
CHUNK_ROWS = GROUP_RECORDS


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    already_quarantined: int = 0  # of ``quarantined``: kept by an earlier import, not again

    def __str__(self) -> str:
        text = (
            f"共 {self.rows} 行 rows: 导入 imported {self.imported}, 重复 duplicate "
            f"{self.duplicates}, 隔离 quarantined {self.quarantined}"
        )
        if self.already_quarantined:
            text += f" (其中已在隔离区 already quarantined {self.already_quarantined})"
        return text


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``field=column`` pairs from the command line, e.g. ``received_at=受理时间``."""
    out: dict[str, str] = {}
    for pair in pairs:
        for item in pair.split(","):
            field, sep, column = item.partition("=")
            if not sep or not field.strip() or not column.strip():
                raise ValueError(f"mapping must be field=column, got {item!r}")
            out[field.strip()] = column.strip()
    return out


def import_file(
    factory: sessionmaker[Session],
    path: Path,
    source: str,
    now: datetime,
    columns: Mapping[str, str] | None = None,
    channel: str | None = None,
    products: ProductTable | None = None,
    progress: bool = True,
    zone: tzinfo = DEFAULT_ZONE,
) -> ImportSummary:
    """Import every row of ``path`` under ``source``; raises ``FileRejected`` for an unusable file."""
    table = read_table(path)
    records = table_records(table, dict(columns or {}), channel)
    summary = ImportSummary(rows=len(records) + len(table.problems))
    with session_scope(factory) as session:
        bad = [
            rejected({"line": line, "values": raw}, reason, f"{path.name}:{line}")
            for line, reason, raw in table.problems
        ]
        kept = quarantine(session, source, bad, now)
    summary.quarantined += len(bad)
    summary.already_quarantined += len(bad) - kept
    with tqdm(total=summary.rows, unit="行", disable=not progress, desc=path.name) as bar:
        bar.update(len(table.problems))
        for start in range(0, len(records), CHUNK_ROWS):
            chunk = records[start : start + CHUNK_ROWS]
            # no write lock held meanwhile
            good, bad = normalize_all(chunk, source, now, products, zone)
            with session_scope(factory) as session:
                stored = ingest_complaints(session, good)
                kept = quarantine(session, source, bad, now)
            summary.imported += stored.inserted
            summary.duplicates += stored.duplicates
            summary.quarantined += len(bad)
            summary.already_quarantined += len(bad) - kept
            bar.update(len(chunk))
    return summary
