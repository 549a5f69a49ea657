"""RSS/Atom and JSON Feed source (social listening, news): keyword rules map posts to products.

Fetched with httpx (retries, auth, timeouts), parsed with feedparser (RSS/Atom) or as JSON Feed.
A post that matches no rule is stored with an empty product, never dropped: a new brand-level
storm must still be counted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any

import feedparser

from collectors.base import Batch
from collectors.http_api import newest
from collectors.http_client import HttpFetcher, SourceUnavailable
from config.sources import FeedRule, FeedSource
from domain.products import ProductTable


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Posts arrive as HTML; we keep only their words (and never render their markup)."""
    parser = _TextOnly()
    try:
        parser.feed(html or "")
        parser.close()
    except Exception:  # HTMLParser is lenient; anything left over is kept unescaped as text
        return unescape(html or "")
    return " ".join(" ".join(parser.parts).split())


def match_rule(text: str, rules: list[FeedRule]) -> FeedRule | None:
    """The first rule whose every ``all_of`` word and one ``any_of`` word occur in the post."""
    folded = text.casefold()
    for rule in rules:
        if all(word.casefold() in folded for word in rule.all_of) and (
            not rule.any_of or any(word.casefold() in folded for word in rule.any_of)
        ):
            return rule
    return None


def _entry_time(entry: Mapping[str, Any]) -> str | None:
    """The entry's time as ISO UTC; a date feedparser reads past year 9999 (e.g. 9999-12-31
    at -14:00) stays the raw text, so that the record is quarantined for it, not the feed."""
    value: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC).isoformat()
    except (ValueError, OverflowError, TypeError):
        return str(entry.get("published") or entry.get("updated") or "")


def rss_entries(data: bytes) -> list[dict[str, Any]]:
    """RSS/Atom entries as plain dicts: id, link, title, body, published (ISO, UTC)."""
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        reason = type(parsed.get("bozo_exception")).__name__
        raise SourceUnavailable(f"not a readable RSS/Atom feed ({reason})")
    out = []
    for entry in parsed.entries:
        body = entry.get("summary", "")
        if entry.get("content"):
            body = " ".join(part.get("value", "") for part in entry["content"])
        out.append(
            {
                "id": entry.get("id") or entry.get("link"),
                "title": entry.get("title", ""),
                "body": body,
                "published": _entry_time(entry),
            }
        )
    return out


def json_feed_entries(document: Any) -> list[dict[str, Any]]:
    """JSON Feed (jsonfeed.org) items in the same shape as RSS entries."""
    if not isinstance(document, Mapping) or not isinstance(document.get("items"), list):
        raise SourceUnavailable("not a JSON Feed: no items list")
    out = []
    for item in document["items"]:
        if not isinstance(item, Mapping):
            out.append({"id": None, "title": "", "body": "", "published": None})
            continue
        out.append(
            {
                "id": item.get("id") or item.get("url"),
                "title": str(item.get("title") or ""),
                "body": str(item.get("content_text") or item.get("content_html") or ""),
                "published": item.get("date_published") or item.get("date_modified"),
            }
        )
    return out


class FeedCollector:
    def __init__(self, config: FeedSource, sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self.products = ProductTable(config.products)
        self.http = HttpFetcher(config) if sleep is None else HttpFetcher(config, sleep)

    def entries(self) -> list[dict[str, Any]]:
        response = self.http.get(self.config.url)
        content_type = response.headers.get("content-type", "")
        data = response.content
        if "json" in content_type or data.lstrip()[:1] == b"{":
            try:
                return json_feed_entries(json.loads(data))
            except ValueError:
                raise SourceUnavailable("feed answer is not valid JSON") from None
        return rss_entries(data)

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        title = plain_text(str(entry["title"] or ""))
        text = (title + "\n" + plain_text(str(entry["body"] or ""))).strip()
        external_id = entry["id"]
        if not external_id or len(str(external_id)) > 128:
            seed = f"{external_id or ''}|{title}|{entry['published']}".encode("utf-8", "replace")
            external_id = "post-" + hashlib.sha256(seed).hexdigest()[:32]
        record: dict[str, Any] = {
            "id": str(external_id),
            "received_at": entry["published"],
            "channel": self.config.channel,
            "text": text,
        }
        rule = match_rule(text, self.config.rules)
        if rule is not None:
            for field in ("product_code", "product_name", "product_line", "category", "event_tag"):
                record[field] = getattr(rule, field)
        return record

    def fetch(self, cursor: str, now: datetime) -> Batch:
        records = [self.record(entry) for entry in self.entries()]
        # Only times that parse count (a post dated "\ud800" or "9999…" must not become the cursor).
        latest = newest([cursor, *(r["received_at"] for r in records)])
        return Batch(records=records, cursor=latest or "", has_more=False)
