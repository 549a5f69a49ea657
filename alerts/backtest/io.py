"""Reading a backtest CSV: required columns checked, bad rows reported and skipped, not fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from domain.calendar import DEFAULT_TIMEZONE
from domain.dimensions import DIMENSIONS

REQUIRED_COLUMNS = (
    "id", "received_at", "channel", "product_code", "product_name", "product_line", "region",
    "category", "event_tag", "text",
)  # fmt: skip
MAX_REPORTED = 10
_ISO_WITH_OFFSET = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:[+-][0-9]{2}:[0-9]{2}|Z)"


class BacktestInputError(Exception):
    """The file cannot be replayed at all (missing, unreadable, or missing columns)."""


@dataclass
class LoadReport:
    rows: int = 0
    loaded: int = 0
    bad_dates: int = 0
    missing_ids: int = 0
    duplicate_ids: int = 0
    naive_dates: int = 0
    named_products: int = 0  # rows without product_code, keyed by their product_name
    bad_counts: int = 0  # count files: negative, fractional or unreadable counts
    weight: int = 0  # count files: the complaints the loaded rows stand for
    examples: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.bad_dates + self.missing_ids + self.duplicate_ids + self.bad_counts

    def note(self, message: str) -> None:
        if len(self.examples) < MAX_REPORTED:
            self.examples.append(message)


def parse_moment(value: str, local: ZoneInfo) -> tuple[datetime | None, bool]:
    """ISO 8601 with offset; a value without one is read as local time (and flagged)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None, False
    if moment.tzinfo is None:
        return moment.replace(tzinfo=local), True
    return moment, False


def parse_received_at(values: pd.Series, local: ZoneInfo, report: LoadReport) -> pd.Series:
    """``parse_moment`` of every value as UTC times (NaT where bad), noted in ``report``.

    Values of the usual form (ISO 8601 with an offset) are parsed by pandas in one call, the
    same instants as ``parse_moment`` (the 10× stream's 328,000 rows took seconds one by one);
    any other value (no offset, spaces, garbage) goes through ``parse_moment`` itself.
    """
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    usual = values.str.fullmatch(_ISO_WITH_OFFSET)
    if usual.any():
        try:
            parsed[usual] = pd.to_datetime(values[usual], format="ISO8601", utc=True)
        except (ValueError, OverflowError):  # e.g. Feb 30: the one-by-one path says which
            usual[:] = False
    for position in np.flatnonzero(~usual.to_numpy()).tolist():
        value = values.iat[position]  # text, or NaN for an empty cell (parse_moment says bad)
        moment, naive = parse_moment(cast(str, value), local)
        report.naive_dates += naive
        if moment is None:
            report.bad_dates += 1
            report.note(f"line {position + 2}: bad received_at {value!r}")
        else:
            parsed.iat[position] = pd.Timestamp(moment).tz_convert("UTC")
    return parsed


def read_text_csv(path: Path, what: str) -> pd.DataFrame:
    """Every cell as text (ids and codes keep their leading zeros), or a clear error."""
    if not path.exists():
        raise BacktestInputError(f"{what}不存在 / file not found: {path}")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BacktestInputError(f"无法读取 CSV / cannot read {path}: {exc}") from None


def load_complaints(
    path: Path, timezone: str = DEFAULT_TIMEZONE
) -> tuple[pd.DataFrame, LoadReport]:
    """The CSV as a frame with tz-aware ``received_at``; extra columns are kept but unused."""
    frame = read_text_csv(path, "投诉文件")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise BacktestInputError(
            f"CSV 缺少列 / missing column(s) in {path}: {', '.join(missing)}; "
            f"expected header: {','.join(REQUIRED_COLUMNS)}"
        )
    report = LoadReport(rows=len(frame))
    frame["received_at"] = parse_received_at(frame["received_at"], ZoneInfo(timezone), report)
    ok = frame["received_at"].notna()
    no_id = frame["id"].str.strip() == ""
    for line in (frame.index[no_id & ok] + 2)[:MAX_REPORTED]:
        report.note(f"line {line}: empty id")
    report.missing_ids = int((no_id & ok).sum())
    ok &= ~no_id
    duplicate = frame["id"].duplicated(keep="first") & ok
    for line in (frame.index[duplicate] + 2)[:MAX_REPORTED]:
        report.note(f"line {line}: duplicate id {frame['id'][line - 2]!r} (first kept)")
    report.duplicate_ids = int(duplicate.sum())
    ok &= ~duplicate
    frame = frame[ok].copy()
    # The live collectors give a product its code through the alias table; a file that names
    # products without codes would otherwise leave every product rule without a key.
    code, name = frame["product_code"].str.strip(), frame["product_name"].str.strip()
    named = (code == "") & (name != "")
    frame.loc[named, "product_code"] = name[named]
    report.named_products = int(named.sum())
    frame["source"] = "backtest"
    report.loaded = len(frame)
    return frame, report


# key columns a count file may carry (the stored counts' dimensions) and a name for the product
COUNT_KEY_COLUMNS = (*DIMENSIONS, "product_name")


def load_counts(
    path: Path, timezone: str = DEFAULT_TIMEZONE, interval: timedelta = timedelta(minutes=5)
) -> tuple[pd.DataFrame, LoadReport]:
    """A count CSV (``interval_start``, ``count`` and key columns) as a weighted complaint frame.

    Each row becomes one row of weight ``count``, stamped at the last second of its interval:
    a count source reports an interval once it has closed, so the replay must not see it
    earlier (and a 5-minute count lands in its own bucket). Rows of count 0 carry nothing and
    are dropped; negative, fractional or unreadable counts are skipped and reported.
    """
    frame = read_text_csv(path, "计数文件")
    missing = [c for c in ("interval_start", "count") if c not in frame.columns]
    if missing:
        raise BacktestInputError(
            f"CSV 缺少列 / missing column(s) in {path}: {', '.join(missing)}; expected "
            f"interval_start,count and any of {','.join(COUNT_KEY_COLUMNS)}"
        )
    report = LoadReport(rows=len(frame))
    starts = parse_received_at(frame["interval_start"], ZoneInfo(timezone), report)
    counts = pd.to_numeric(frame["count"].str.strip(), errors="coerce")
    bad = starts.notna() & ~(counts.notna() & (counts >= 0) & (counts == counts.round()))
    for line in (frame.index[bad] + 2)[:MAX_REPORTED]:
        report.note(f"line {line}: bad count {frame['count'][line - 2]!r}")
    report.bad_counts = int(bad.sum())
    ok = starts.notna() & ~bad
    out = pd.DataFrame({"id": (frame.index + 2).map(lambda n: f"line{n}")})
    for column in COUNT_KEY_COLUMNS:
        out[column] = frame[column].str.strip() if column in frame else ""
    named = (out["product_code"] == "") & (out["product_name"] != "")
    out.loc[named, "product_code"] = out.loc[named, "product_name"]
    out["received_at"] = starts + (interval - timedelta(seconds=1))
    out["weight"] = counts.fillna(0).astype("int64")
    out["text"] = ""
    out = out[ok & (out["weight"] > 0)].reset_index(drop=True)
    report.named_products = int((named & ok).sum())
    report.loaded = int(ok.sum())
    report.weight = int(out["weight"].sum())
    out["source"] = out["source"].where(out["source"] != "", "backtest")
    return out, report
