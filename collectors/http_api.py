"""HTTP JSON API source (web-form and app complaint platforms): since-parameter plus pagination.

The cursor is JSON: ``since`` (the newest event time committed so far) and, while a run walks
through pages, the page/offset/token to resume from and the newest time seen in those pages.
It is stored by the runner only after each page is committed, so a crash re-reads one page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any, cast

from collectors.base import Batch
from collectors.http_client import HttpFetcher, SourceUnavailable
from collectors.mapping import get_path, map_json
from collectors.normalize import DEFAULT_ZONE, RecordRejected, parse_time
from collectors.pagination import next_page, page_params
from config.sources import HttpApiSource, source_zone
from domain.products import ProductTable


def load_cursor(cursor: str) -> dict[str, Any]:
    """The saved cursor; an empty or unreadable one starts from the configured beginning."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {"since": cursor}
    return value if isinstance(value, dict) else {}


def newest(values: list[Any], zone: tzinfo = DEFAULT_ZONE) -> str | None:
    """The latest of several time values, kept in the source's own spelling; ``zone`` is the
    source's zone for values without an offset."""
    best: tuple[datetime, str] | None = None
    for value in values:
        if value is None or value == "":
            continue
        try:
            moment = parse_time(value, zone)
        except RecordRejected:
            continue
        if best is None or moment > best[0]:
            # The source's own spelling goes back to it as ``since``; one that would not store
            # cleanly (control characters, lone surrogates) is replaced by its ISO form.
            spelling = value if isinstance(value, str) and value.isprintable() else None
            best = (moment, spelling or moment.isoformat())
    return best[1] if best else None


class HttpApiCollector:
    def __init__(self, config: HttpApiSource, sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self.products = ProductTable(config.products)
        self.http = HttpFetcher(config) if sleep is None else HttpFetcher(config, sleep)

    def _params(self, state: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        params: dict[str, Any] = dict(c.params)
        since = state.get("since") or c.initial_since
        if c.since_param and since:
            params[c.since_param] = since
        params.update(page_params(c, state))
        return params

    def fetch(self, cursor: str, now: datetime) -> Batch:
        c = self.config
        state = load_cursor(cursor)
        document = self.http.get_json(c.url, self._params(state))
        items = get_path(document, c.records_path)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SourceUnavailable(f"records_path {c.records_path!r} is not a list in the answer")
        records = []
        for item in items:
            record = map_json(item, cast("Mapping[str, str]", c.columns))
            if c.channel and not record.get("channel"):
                record["channel"] = c.channel
            records.append(record)
        times = [
            get_path(item, c.since_field) if c.since_field else record.get("received_at")
            for item, record in zip(items, records, strict=True)
        ]
        seen = newest([state.get("max"), *times], source_zone(c))
        next_state = next_page(c, state, document, len(items))
        if next_state is None:
            since = newest([state.get("since") or c.initial_since, seen], source_zone(c))
            return Batch(records=records, cursor=json.dumps({"since": since}), has_more=False)
        next_state["since"] = state.get("since")
        next_state["max"] = seen
        return Batch(records=records, cursor=json.dumps(next_state), has_more=True)
