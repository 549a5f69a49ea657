"""Fuzzed JSON API answers and feed documents served by a real local HTTP server.

Records of every JSON type, control characters and lone surrogates (as JSON escapes), huge
values, far-away dates, wrong shapes: each delivered record ends stored, a duplicate or
quarantined with a reason; an answer that is not a list of records at all is a source failure
(recorded, cursor kept), never an exception out of the runner. The cursor each run leaves must
be usable by the next run.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from collectors.feed import FeedCollector
from collectors.http_api import HttpApiCollector
from collectors.mapping import get_path
from collectors.pagination import MAX_TOKEN_CHARS
from config.sources import FeedSource, HttpApiSource
from tests.collectors.fuzz_inputs import (
    FUZZ,
    TEN_MB,
    TIMES,
    Stored,
    assert_accounted,
    channel_text,
    hostile_text,
    id_text,
    json_value,
    source_name,
    stored,
    time_text,
)
from tests.collectors.helpers import complaints, run, state

COLUMNS = {
    "id": "ticketId",
    "received_at": "createdAt",
    "channel": "source",
    "product_name": "product.name",
    "region": "province",
    "text": "content",
    "customer_phone": "phone",
}
mostly_right = st.fixed_dictionaries(
    {},
    optional={
        "ticketId": st.one_of(id_text, json_value),
        "createdAt": st.one_of(time_text, json_value),
        "source": st.one_of(channel_text, json_value),
        "product": st.one_of(st.fixed_dictionaries({"name": hostile_text}), json_value),
        "province": st.one_of(hostile_text, json_value),
        "content": st.one_of(hostile_text, json_value),
        "phone": st.one_of(st.just("13812345678"), json_value),
    },
)
api_document = st.one_of(
    st.fixed_dictionaries(
        {"data": st.fixed_dictionaries({"items": st.lists(mostly_right | json_value, max_size=8)})},
        optional={"next": json_value},
    ),
    json_value,  # the wrong shape altogether
)


def api_collector(server: HTTPServer, name: str, **overrides) -> HttpApiCollector:
    config = {
        "name": name,
        "kind": "http_api",
        "url": server.url_for("/complaints"),
        "records_path": "data.items",
        "columns": COLUMNS,
        "max_attempts": 1,
        "timeout_seconds": 5,
        **overrides,
    }
    return HttpApiCollector(HttpApiSource.model_validate(config), sleep=lambda _s: None)


def serve_json(server: HTTPServer, document) -> None:
    """The document on the first page; a request carrying a page token gets an empty last page."""
    # ensure_ascii writes lone surrogates as \\ud800 escapes, as a careless API would.
    body = json.dumps(document, ensure_ascii=True)
    last = json.dumps({"data": {"items": []}})

    def answer(request: Request) -> Response:
        text = last if "cursor" in request.args else body
        return Response(text, content_type="application/json")

    server.clear()
    server.expect_request("/complaints").respond_with_handler(answer)


@FUZZ
@given(document=api_document, pagination=st.sampled_from(["none", "cursor"]))
def test_fuzzed_api_answers_are_stored_or_quarantined(factory, httpserver, document, pagination):
    """Also with a fuzzed ``next`` page token: whatever it is, the next run can use the cursor."""
    name = source_name("api")
    serve_json(httpserver, document)
    source = api_collector(httpserver, name, pagination=pagination, next_cursor_path="next")
    result = run(factory, name, "http_api", source)
    items = get_path(document, "data.items")
    token = get_path(document, "next")
    if (
        pagination == "cursor"
        and isinstance(items, list)
        and items
        and len(str(token)) > MAX_TOKEN_CHARS
    ):  # a token no URL can carry: the page is refused whole, the cursor kept
        assert "next-page token" in result.error
        assert stored(factory, name) == Stored(0, 0, 0)
        assert state(factory, name).consecutive_failures == 1
    elif items is None or isinstance(items, list):
        assert_accounted(factory, name, result, len(items or []))
        again = run(factory, name, "http_api", source)  # same answer: the saved cursor is usable
        assert again.error == "" and again.inserted == 0
    else:  # not a list of records: the whole answer is refused, nothing half-stored
        assert "records_path" in result.error
        assert stored(factory, name) == Stored(0, 0, 0)
        assert state(factory, name).consecutive_failures == 1


def test_ten_megabyte_api_values(factory, httpserver):
    """A 10 MB text is stored cut to 20,000 characters; a 10 MB id or time is quarantined."""
    name = source_name("apibig")
    huge = "理赔" * (TEN_MB // 6)
    items = [
        {"ticketId": "W1", "createdAt": TIMES[0], "source": "官网", "content": huge},
        {"ticketId": "W" * TEN_MB, "createdAt": TIMES[0], "source": "官网", "content": "x"},
        {"ticketId": "W3", "createdAt": "2" * TEN_MB, "source": "官网", "content": "x"},
    ]
    serve_json(httpserver, {"data": {"items": items}})
    result = run(factory, name, "http_api", api_collector(httpserver, name))
    assert_accounted(factory, name, result, 3)
    assert (result.inserted, result.quarantined) == (1, 2)
    assert complaints(factory, name)[0].text == huge[:20_000]


# --- feeds -------------------------------------------------------------------------------------

feed_entry = st.fixed_dictionaries(
    {},
    optional={
        "id": id_text,
        "title": hostile_text,
        "body": hostile_text,
        "date": st.one_of(
            time_text,
            st.sampled_from(
                [
                    "Mon, 23 Nov 2026 01:00:00 GMT",
                    "Fri, 31 Dec 9999 23:59:59 -1400",
                    "Mon, 01 Jan 0001 00:00:00 +1400",
                    "Sun, 31 Dec 1899 23:59:59 GMT",
                ]
            ),
        ),
    },
)


def xml_text(value: str) -> str:
    return escape(value)


def rss(entries: list[dict]) -> str:
    items = []
    for e in entries:
        parts = [f"<guid>{xml_text(e['id'])}</guid>" if "id" in e else ""]
        parts.append(f"<title>{xml_text(e.get('title', ''))}</title>")
        parts.append(f"<description>{xml_text(e.get('body', ''))}</description>")
        parts.append(f"<pubDate>{xml_text(e['date'])}</pubDate>" if "date" in e else "")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    )


def atom(entries: list[dict]) -> str:
    items = []
    for e in entries:
        parts = [f"<id>{xml_text(e['id'])}</id>" if "id" in e else ""]
        parts.append(f"<title>{xml_text(e.get('title', ''))}</title>")
        parts.append(f'<content type="html">{xml_text(e.get("body", ""))}</content>')
        parts.append(f"<updated>{xml_text(e['date'])}</updated>" if "date" in e else "")
        items.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>t</title><id>urn:t</id>" + "".join(items) + "</feed>"
    )


def feed_collector(server: HTTPServer, name: str) -> FeedCollector:
    config = {
        "name": name,
        "kind": "feed",
        "url": server.url_for("/feed"),
        "rules": [{"all_of": ["安心"], "any_of": ["拒赔"], "product_code": "HLT-001"}],
        "max_attempts": 1,
    }
    return FeedCollector(FeedSource.model_validate(config), sleep=lambda _s: None)


def serve_feed(server: HTTPServer, body: bytes, content_type: str) -> None:
    server.clear()
    server.expect_request("/feed").respond_with_data(body, content_type=content_type)


@FUZZ
@given(entries=st.lists(feed_entry, max_size=6), kind=st.sampled_from(["rss", "atom"]))
def test_fuzzed_rss_and_atom_entries_are_stored_or_quarantined(factory, httpserver, entries, kind):
    """Raw control characters and broken UTF-8 make the XML ill-formed: the lenient parse goes on."""
    name = source_name("feed")
    document = rss(entries) if kind == "rss" else atom(entries)
    serve_feed(httpserver, document.encode("utf-8", "surrogatepass"), f"application/{kind}+xml")
    result = run(factory, name, "feed", feed_collector(httpserver, name))
    if result.error:  # only a document feedparser cannot read at all may fail, storing nothing
        assert "RSS/Atom" in result.error
        assert stored(factory, name) == Stored(0, 0, 0)
        return
    assert_accounted(factory, name, result, len(entries))
    again = run(factory, name, "feed", feed_collector(httpserver, name))
    assert again.error == "" and again.inserted == 0


json_feed_item = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(id_text, json_value),
            "url": json_value,
            "title": st.one_of(hostile_text, json_value),
            "content_text": st.one_of(hostile_text, json_value),
            "content_html": hostile_text,
            "date_published": st.one_of(time_text, json_value),
            "date_modified": time_text,
        },
    ),
    json_value,
)


@FUZZ
@given(items=st.lists(json_feed_item, max_size=8))
def test_fuzzed_json_feed_items_are_stored_or_quarantined(factory, httpserver, items):
    name = source_name("jsonfeed")
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    serve_feed(httpserver, body.encode(), "application/feed+json")
    result = run(factory, name, "feed", feed_collector(httpserver, name))
    assert_accounted(factory, name, result, len(items))
    again = run(factory, name, "feed", feed_collector(httpserver, name))  # the cursor is storable
    assert again.error == "" and again.inserted == 0


def test_ten_megabyte_feed_post(factory, httpserver):
    name = source_name("feedbig")
    huge = "安心保险拒赔" * (TEN_MB // 18)
    items = [
        {"id": "p1", "content_text": huge, "date_published": TIMES[0]},
        {"id": "p" * TEN_MB, "content_text": "x", "date_published": TIMES[0]},
        {"id": "p3", "content_text": "x", "date_published": "9" * TEN_MB},
    ]
    serve_feed(httpserver, json.dumps({"items": items}).encode(), "application/feed+json")
    result = run(factory, name, "feed", feed_collector(httpserver, name))
    assert_accounted(factory, name, result, 3)
    assert (result.inserted, result.quarantined) == (2, 1)  # the long id is hashed, not refused
    texts = sorted(len(c.text) for c in complaints(factory, name))
    assert texts[-1] == 20_000
