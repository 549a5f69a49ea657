"""Count-only sources: systems that report how many complaints per interval, not the complaints.

Examples: calls per product per 15 minutes from the CTI, mentions per hour from a listening
vendor. Rows become ``RawCount`` items; the runner applies them through ``deliver_counts``, which
remembers each delivered row so that re-delivery replaces rather than adds.

An HTTP count source pages through a long answer exactly like the complaint API does (the same
``collectors.pagination``): one page per batch, its place kept in the cursor after each commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast, get_args

from collectors.base import Batch
from collectors.files import FileRejected, read_table
from collectors.http_api import load_cursor, newest
from collectors.http_client import HttpFetcher, SourceUnavailable
from collectors.mapping import get_path, header_key
from collectors.normalize import LIMITS, RecordRejected, clean_label, parse_time
from collectors.pagination import next_page, page_params
from config.sources import CountField, CountsSource, source_zone
from domain.products import ProductTable
from domain.records import PreRejected, RawCount
from domain.vocabulary import normalise_channel, normalise_region

# The count fields a source may map, as declared for sources.yaml (one list, one place).
COUNT_FIELDS: tuple[str, ...] = get_args(CountField)
COUNT_ALIASES: dict[str, tuple[str, ...]] = {
    "interval_start": ("时段开始", "开始时间", "时间段", "统计时间", "时间", "start", "time"),
    "interval_minutes": ("时长", "分钟数", "minutes"),
    "count": ("数量", "件数", "来电量", "呼入量", "投诉量", "提及量", "calls", "mentions", "n"),
    "channel": ("渠道",),
    "product_code": ("产品代码", "险种代码"),
    "product_name": ("险种", "险种名称", "产品名称", "产品"),
    "product_line": ("险类", "产品线"),
    "region": ("地区", "省份"),
    "category": ("投诉类别", "类别"),
    "event_tag": ("事件标签", "事件"),
    "branch": ("分支机构", "所属分公司", "分公司", "中心支公司", "支公司", "所属机构", "机构"),
}


def pick(row: Mapping[str, Any], field: str, columns: Mapping[str, str]) -> Any:
    """A count field from a row: configured column or path, the field's name, or a known alias."""
    if field in columns:
        return get_path(row, columns[field])
    keys = {header_key(k): k for k in row}
    for candidate in (field, *COUNT_ALIASES.get(field, ())):
        key = keys.get(header_key(candidate))
        if key is not None:
            return row[key]
    return None


def parse_count(value: Any) -> int:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise RecordRejected("missing count")
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        raise RecordRejected(f"count is not a number: {clean_label(value, 20)!r}") from None
    if not number.is_integer() or number < 0 or number > 10_000_000:
        raise RecordRejected(f"count must be a whole number 0…10,000,000: {clean_label(value, 20)}")
    return int(number)


def to_raw_count(
    row: Mapping[str, Any], config: CountsSource, products: ProductTable, now: datetime
) -> RawCount:
    """One delivered row → ``RawCount``; raises ``RecordRejected`` with the reason when it cannot."""
    c = config
    raw = {f: pick(row, f, cast("Mapping[str, str]", c.columns)) for f in COUNT_FIELDS}
    start = parse_time(raw["interval_start"], source_zone(c))
    if (start - now).total_seconds() > 24 * 3600:
        raise RecordRejected(f"interval_start in the future: {start.isoformat()}")
    minutes = c.interval_minutes
    if raw["interval_minutes"] not in (None, ""):
        try:
            minutes = int(str(raw["interval_minutes"]).strip())
        except ValueError:
            raise RecordRejected("interval_minutes is not a whole number") from None
        if minutes not in (1, 5) and (minutes % 5 or not 5 <= minutes <= 1440):
            raise RecordRejected(f"interval_minutes must be 1, 5 or a multiple of 5: {minutes}")
    channel = normalise_channel(clean_label(raw["channel"], 32)) if raw["channel"] else c.channel
    if channel is None:
        raise RecordRejected(f"unknown channel: {clean_label(raw['channel'], 40)!r}")
    code, name, line = products.resolve(
        clean_label(raw["product_code"], LIMITS["product_code"]),
        clean_label(raw["product_name"], LIMITS["product_name"]),
        clean_label(raw["product_line"], LIMITS["product_line"]),
    )
    identity = [start.isoformat(), minutes] + [
        clean_label(raw[f], 128)
        for f in ("channel", "product_code", "product_name", "product_line")
    ]
    identity += [clean_label(raw[f], 128) for f in ("region", "category", "event_tag")]
    branch = clean_label(raw["branch"], LIMITS["branch"])
    if branch:  # rows without a branch keep the key they had before branches were counted
        identity.append(branch)
    raw_key = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
    return RawCount(
        raw_key=raw_key,
        interval_start=start,
        interval_minutes=minutes,
        count=parse_count(raw["count"]),
        channel=channel,
        product_code=(code or name)[: LIMITS["product_code"]],  # unknown product: its name
        product_line=line[: LIMITS["product_line"]],
        region=normalise_region(clean_label(raw["region"], 64))[: LIMITS["region"]],
        category=clean_label(raw["category"], LIMITS["category"]),
        event_tag=clean_label(raw["event_tag"], LIMITS["event_tag"]),
        branch=branch,
    )


class CountsCollector:
    def __init__(self, config: CountsSource, sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self.table = ProductTable(config.products)
        self.http = None
        if config.http is not None:
            self.http = (
                HttpFetcher(config.http) if sleep is None else HttpFetcher(config.http, sleep)
            )

    def _file_rows(self, cursor: str) -> tuple[list[Any], str]:
        """Rows of the counts file and its content hash, or none when the file is unchanged."""
        path = Path(self.config.path or "")
        if not path.is_file():
            raise SourceUnavailable(f"计数文件不存在 / counts file missing: {path}")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:32]
        if digest == cursor:
            return [], cursor
        try:
            return read_table(path).rows, digest
        except FileRejected as exc:
            raise SourceUnavailable(str(exc)) from None

    def fetch(self, cursor: str, now: datetime) -> Batch:
        if self.http is None:
            rows, next_cursor = self._file_rows(cursor)
            counts, rejected = self._convert(rows, now)
            return Batch(records=[], cursor=next_cursor, counts=counts, rejected=rejected)
        return self._fetch_page(cursor, now)

    def _fetch_page(self, cursor: str, now: datetime) -> Batch:
        """One page of the HTTP answer; ``since`` moves to the newest interval after the last page.

        ``since`` is inclusive, so the newest interval (which may still grow) is delivered again
        next time and replaces its earlier value.
        """
        c = self.config
        assert self.http is not None and c.http is not None
        state = load_cursor(cursor)  # a plain string is a cursor from before pagination
        params = {c.since_param: state["since"]} if c.since_param and state.get("since") else {}
        params.update(page_params(c, state))
        document = self.http.get_json(c.http.url, params)
        items = get_path(document, c.records_path)
        if not isinstance(items, list):
            raise SourceUnavailable(f"records_path {c.records_path!r} is not a list in the answer")
        counts, rejected = self._convert(items, now)
        zone = source_zone(c)
        seen = newest([state.get("max"), *(i.interval_start.isoformat() for i in counts)], zone)
        following = next_page(c, state, document, len(items))
        if following is None:
            since = newest([state.get("since"), seen], zone)
            next_cursor = json.dumps({"since": since}) if since else ""
            return Batch(records=[], cursor=next_cursor, counts=counts, rejected=rejected)
        following.update(since=state.get("since"), max=seen)
        return Batch(
            records=[],
            cursor=json.dumps(following),
            counts=counts,
            rejected=rejected,
            has_more=True,
        )

    def _convert(self, rows: list[Any], now: datetime) -> tuple[list[RawCount], list[PreRejected]]:
        """Delivered rows → counts, and the rows that cannot be read, each with its reason."""
        counts: list[RawCount] = []
        rejected: list[PreRejected] = []
        for row in rows:
            if not isinstance(row, Mapping):
                rejected.append(PreRejected("", "row is not an object", row))
                continue
            try:
                counts.append(to_raw_count(row, self.config, self.table, now))
            except RecordRejected as exc:
                rejected.append(PreRejected(str(row.get("_line", "")), str(exc), row))
        return counts, rejected
