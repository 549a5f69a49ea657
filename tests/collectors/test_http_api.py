"""The HTTP JSON API source against a real local server: pagination, failures, timeouts, auth."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from collectors.http_api import HttpApiCollector
from collectors.http_client import retry_after_seconds
from config.sources import HttpApiSource
from tests.collectors.helpers import complaints, counted, quarantined, run, state, stored_ids

ITEMS: list[dict[str, Any]] = [
    {
        "ticketId": f"W{i}",
        "createdAt": f"2026-11-23T09:{i:02d}:00+08:00",
        "source": "官网",
        "product": {"name": "安心车险"},
        "province": "广东省",
        "content": f"第{i}条投诉",
    }
    for i in range(7)
]
COLUMNS = {
    "id": "ticketId",
    "received_at": "createdAt",
    "channel": "source",
    "product_name": "product.name",
    "region": "province",
    "text": "content",
}


def collector(
    server: HTTPServer, sleeps: list[float] | None = None, **overrides
) -> HttpApiCollector:
    config = {
        "name": "webform",
        "kind": "http_api",
        "url": server.url_for("/complaints"),
        "records_path": "data.items",
        "columns": COLUMNS,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 30,
        "timeout_seconds": 0.5,
        **overrides,
    }
    recorded = sleeps if sleeps is not None else []
    return HttpApiCollector(HttpApiSource.model_validate(config), sleep=recorded.append)


def paged(request: Request) -> Response:
    """Page-numbered API: page N of size S, filtered by since (inclusive)."""
    since = request.args.get("since", "")
    items = [i for i in ITEMS if i["createdAt"] >= since]
    page, size = int(request.args["page"]), int(request.args["page_size"])
    chunk = items[(page - 1) * size : page * size]
    return Response(json.dumps({"data": {"items": chunk}}), content_type="application/json")


def test_page_pagination_and_since_cursor(factory, httpserver: HTTPServer):
    httpserver.expect_request("/complaints").respond_with_handler(paged)
    source = collector(httpserver, pagination="page", page_size=3)
    result = run(factory, "webform", "http_api", source)
    assert (result.inserted, result.duplicates, result.error) == (7, 0, "")
    pages = [r.args.get("page") for r, _ in httpserver.log]
    assert pages == ["1", "2", "3"]
    cursor = json.loads(state(factory, "webform").cursor)
    assert cursor == {"since": "2026-11-23T09:06:00+08:00"}
    # Next run asks since the newest time: the boundary record comes again and is not doubled.
    httpserver.clear_log()
    result = run(factory, "webform", "http_api", source)
    assert httpserver.log[0][0].args["since"] == "2026-11-23T09:06:00+08:00"
    assert (result.inserted, result.duplicates) == (0, 1)
    assert len(stored_ids(factory, "webform")) == 7 and counted(factory, "webform") == 7
    c = complaints(factory, "webform")[0]
    assert (c.channel, c.region, c.product_name) == ("web", "广东", "安心车险")


def test_offset_pagination(factory, httpserver: HTTPServer):
    def handler(request: Request) -> Response:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        return Response(json.dumps({"data": {"items": ITEMS[offset : offset + limit]}}))

    httpserver.expect_request("/complaints").respond_with_handler(handler)
    result = run(
        factory, "webform", "http_api", collector(httpserver, pagination="offset", page_size=4)
    )
    assert result.inserted == 7
    assert [r.args["offset"] for r, _ in httpserver.log] == ["0", "4"]


def test_cursor_pagination_with_auth_header_from_environment(factory, httpserver, monkeypatch):
    monkeypatch.setenv("WEBFORM_TOKEN", "Bearer t0ken-xyz")

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer t0ken-xyz":
            return Response("unauthorised", status=401)
        start = int(request.args.get("cursor", "0"))
        nxt = start + 3 if start + 3 < len(ITEMS) else None
        body = {"data": {"items": ITEMS[start : start + 3]}, "next": nxt}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/complaints").respond_with_handler(handler)
    source = collector(
        httpserver, pagination="cursor", next_cursor_path="next", auth_env="WEBFORM_TOKEN"
    )
    result = run(factory, "webform", "http_api", source)
    assert (result.inserted, result.error) == (7, "")
    assert [r.args.get("cursor") for r, _ in httpserver.log] == [None, "3", "6"]
    monkeypatch.setenv("WEBFORM_TOKEN", "wrong")
    result = run(factory, "webform", "http_api", source)
    assert "401" in result.error and "wrong" not in result.error


def test_a_token_too_long_for_a_url_fails_the_page_and_keeps_the_cursor(factory, httpserver):
    """Following it would strand the cursor on a request that can never be sent."""
    body = {"data": {"items": ITEMS[:3]}, "next": "t" * 70_000}
    httpserver.expect_request("/complaints").respond_with_json(body)
    source = collector(httpserver, pagination="cursor", next_cursor_path="next")
    result = run(factory, "webform", "http_api", source)
    assert "next-page token at 'next' is 70,000 characters" in result.error
    assert (result.inserted, complaints(factory, "webform")) == (0, [])
    assert state(factory, "webform").cursor == ""
    body["next"] = "t" * 4_000  # the source fixed: the same page is read and the walk goes on
    httpserver.clear()
    httpserver.expect_request("/complaints", query_string="").respond_with_json(body)
    httpserver.expect_request("/complaints").respond_with_json({"data": {"items": []}})
    result = run(factory, "webform", "http_api", source)
    assert (result.inserted, result.error) == (3, "")


def test_an_answer_nested_too_deeply_is_a_clear_source_failure(factory, httpserver):
    nested = "[" * 5000 + "]" * 5000
    body = '{"data": {"items": [{"ticketId": "W1", "extra": ' + nested + "}]}}"
    httpserver.expect_request("/complaints").respond_with_data(
        body, content_type="application/json"
    )
    result = run(factory, "webform", "http_api", collector(httpserver))
    assert "nested too deeply to parse" in result.error
    assert state(factory, "webform").consecutive_failures == 1


def test_500_then_recovery_is_retried_with_backoff(factory, httpserver: HTTPServer):
    httpserver.expect_ordered_request("/complaints").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/complaints").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/complaints").respond_with_json(
        {"data": {"items": ITEMS[:2]}}
    )
    sleeps: list[float] = []
    result = run(factory, "webform", "http_api", collector(httpserver, sleeps))
    assert (result.inserted, result.error) == (2, "")
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] > 0  # exponential


def test_429_respects_retry_after(factory, httpserver: HTTPServer):
    httpserver.expect_ordered_request("/complaints").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/complaints").respond_with_json(
        {"data": {"items": ITEMS[:1]}}
    )
    sleeps: list[float] = []
    result = run(factory, "webform", "http_api", collector(httpserver, sleeps))
    assert result.inserted == 1 and sleeps == [7.0]


def test_persistent_failure_keeps_cursor_and_records_health(factory, httpserver: HTTPServer):
    httpserver.expect_request("/complaints").respond_with_handler(paged)
    source = collector(httpserver, pagination="page", page_size=10)
    run(factory, "webform", "http_api", source)
    cursor = state(factory, "webform").cursor
    httpserver.clear()
    httpserver.expect_request("/complaints").respond_with_data("down", status=502)
    for attempt in range(1, 3):
        result = run(factory, "webform", "http_api", source)
        assert "502" in result.error and "after 4 attempts" in result.error
        health = state(factory, "webform")
        assert health.consecutive_failures == attempt and health.cursor == cursor
    httpserver.clear()
    httpserver.expect_request("/complaints").respond_with_handler(paged)
    result = run(factory, "webform", "http_api", source)
    assert result.error == "" and state(factory, "webform").consecutive_failures == 0
    assert len(stored_ids(factory, "webform")) == 7


def test_timeout_is_retried_then_reported(factory, httpserver: HTTPServer):
    release = threading.Event()

    def slow(_request: Request) -> Response:
        release.wait(10)  # hangs until the client has given up
        return Response(json.dumps({"data": {"items": ITEMS}}))

    httpserver.expect_request("/complaints").respond_with_handler(slow)
    sleeps: list[float] = []
    source = collector(httpserver, sleeps, max_attempts=2, timeout_seconds=0.2)
    result = run(factory, "webform", "http_api", source)
    release.set()
    assert "Timeout" in result.error and len(sleeps) == 1
    assert stored_ids(factory, "webform") == []
    assert state(factory, "webform").consecutive_failures == 1
    # Let the single-threaded server drain both abandoned requests before the next test.
    deadline = time.monotonic() + 10
    while len(httpserver.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_garbage_answers_and_bad_items(factory, httpserver: HTTPServer):
    httpserver.expect_ordered_request("/complaints").respond_with_data("<html>not json</html>")
    result = run(factory, "webform", "http_api", collector(httpserver))
    assert "not JSON" in result.error
    bad_items = [
        ITEMS[0],
        "a string",
        {"ticketId": "W9", "createdAt": "yesterday"},
        {"createdAt": "2026-11-23"},
    ]
    httpserver.expect_ordered_request("/complaints").respond_with_json(
        {"data": {"items": bad_items}}
    )
    result = run(factory, "webform", "http_api", collector(httpserver))
    assert (result.inserted, result.quarantined) == (1, 3)
    assert len(quarantined(factory, "webform")) == 3


def test_retry_after_parses_http_dates():
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 23 Nov 2026 08:00:30 GMT", now) == pytest.approx(30)
    assert retry_after_seconds("12", now) == 12 and retry_after_seconds("soon", now) is None
