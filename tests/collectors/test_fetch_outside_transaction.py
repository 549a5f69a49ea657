"""A slow source must not hold the database while it answers.

The worker's rule evaluation, notifications and other sources write to the same database; on
SQLite there is one write lock. The collector therefore fetches and normalises before it opens
its write transaction, and stores the batch only if no one moved the cursor meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from collectors.runner import collect_once
from storage.db import make_session_factory, session_scope
from storage.models import SourceState
from tests.collectors.helpers import NOW, state, stored_ids
from tests.collectors.test_http_api import ITEMS, collector

ANSWER = {"data": {"items": ITEMS}}


class HeldAnswer:
    """A handler that answers only when the test lets it, and says when the request arrived."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: Request) -> Response:
        self.arrived.set()
        self.release.wait(30)
        return Response(json.dumps(ANSWER), content_type="application/json")


def _collect_in_background(factory, source) -> tuple[threading.Thread, list]:
    outcome: list = []
    thread = threading.Thread(
        target=lambda: outcome.append(collect_once(factory, "webform", "http_api", source, NOW))
    )
    thread.start()
    return thread, outcome


@pytest.fixture
def held(httpserver: HTTPServer) -> HeldAnswer:
    handler = HeldAnswer()
    httpserver.expect_request("/complaints").respond_with_handler(handler)
    return handler


def test_other_writers_commit_while_a_source_is_answering(sqlite_engine, httpserver, held):
    factory = make_session_factory(sqlite_engine)
    source = collector(httpserver, timeout_seconds=30, max_attempts=1)
    thread, outcome = _collect_in_background(factory, source)
    try:
        assert held.arrived.wait(10), "the collector never called the source"
        # Another writer (the evaluator, say) with a one-second busy timeout.
        other = sqlite3.connect(sqlite_engine.url.database, timeout=1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # takes the write lock or fails after 1 s
            other.execute("UPDATE source_states SET note = 'evaluated' WHERE kind = 'other'")
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        held.release.set()
        thread.join(30)
    [result] = outcome
    assert result.error == "" and result.inserted == len(ITEMS)
    assert stored_ids(factory, "webform") == sorted(i["ticketId"] for i in ITEMS)


def test_a_cursor_moved_during_the_fetch_is_not_overwritten(factory, httpserver, held):
    source = collector(httpserver, timeout_seconds=30, max_attempts=1)
    thread, outcome = _collect_in_background(factory, source)
    try:
        assert held.arrived.wait(10), "the collector never called the source"
        # Another worker, configured with the same source by mistake, stores its run first.
        with session_scope(factory) as session:
            session.add(
                SourceState(
                    name="webform", kind="http_api", cursor="moved-by-another-worker",
                    total_records=0, consecutive_failures=0,
                )
            )  # fmt: skip
    finally:
        held.release.set()
        thread.join(30)
    [result] = outcome
    assert result.inserted == 0 and result.error == ""
    assert state(factory, "webform").cursor == "moved-by-another-worker"
    assert stored_ids(factory, "webform") == []
