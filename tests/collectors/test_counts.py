"""Count-only sources: counts land in complaint_counts once, re-delivery replaces, never doubles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from collectors.counts import CountsCollector
from config.sources import CountsSource
from storage.ingest import split_interval
from storage.models import ComplaintCount, SourceState
from storage.queries import window_counts
from tests.collectors.helpers import NOW, counted, quarantined, run, state

PRODUCTS = [{"code": "CAR-001", "name": "安心车险", "line": "车险", "aliases": ["安心车"]}]


def csv_source(path, **overrides) -> CountsCollector:
    config = {"name": "cti", "kind": "counts", "path": path, "products": PRODUCTS, **overrides}
    return CountsCollector(CountsSource.model_validate(config))


def buckets(factory, source: str) -> dict[tuple[str, str], int]:
    with factory() as session:
        rows = session.execute(
            select(
                ComplaintCount.bucket_start, ComplaintCount.product_code, ComplaintCount.count
            ).where(ComplaintCount.source == source)
        ).all()
    return {(r[0].strftime("%H:%M"), r[1]): r[2] for r in rows if r[2]}


def test_csv_counts_are_spread_and_redelivery_replaces(factory, tmp_path):
    path = tmp_path / "cti.csv"
    path.write_text(
        "时段开始,险种,省份,来电量\n"
        "2026-11-23 09:00,安心车险,广东省,7\n"
        "2026-11-23 09:00,安心车,粤,1\n"  # another spelling of the same product and province
        "2026-11-23 09:15,安心车险,广东,3\n"
        "2026-11-23 09:30,安心车险,广东,-2\n"
        "不是时间,安心车险,广东,2\n",
        encoding="gbk",
    )
    result = run(factory, "cti", "counts", csv_source(path))
    assert (result.counts, result.quarantined, result.error) == (11, 2, "")
    assert buckets(factory, "cti") == {
        ("01:00", "CAR-001"): 4,  # 7 → 3+2+2 and 1 → 1+0+0 over the three buckets
        ("01:05", "CAR-001"): 2,
        ("01:10", "CAR-001"): 2,
        ("01:15", "CAR-001"): 1,
        ("01:20", "CAR-001"): 1,
        ("01:25", "CAR-001"): 1,
    }
    assert len(quarantined(factory, "cti")) == 2
    # The CTI rewrites the file: 09:15 corrected to 6, a new interval appears, the rest repeats.
    path.write_text(
        "时段开始,险种,省份,来电量\n"
        "2026-11-23 09:00,安心车险,广东省,7\n"
        "2026-11-23 09:00,安心车,粤,1\n"
        "2026-11-23 09:15,安心车险,广东,6\n"
        "2026-11-23 09:45,安心车险,广东,3\n",
        encoding="gbk",
    )
    result = run(factory, "cti", "counts", csv_source(path))
    assert result.counts == 6 and counted(factory, "cti") == 17
    # Unchanged file: nothing re-applied.
    assert run(factory, "cti", "counts", csv_source(path)).counts == 0
    assert counted(factory, "cti") == 17
    health = state(factory, "cti")
    assert health.last_received_at is not None
    assert health.last_received_at.isoformat() == "2026-11-23T02:00:00+00:00"


def test_a_product_missing_from_the_alias_table_is_counted_under_its_name(factory, tmp_path):
    path = tmp_path / "cti.csv"
    path.write_text(
        "时段开始,险种,省份,来电量\n2026-11-23 09:00,尊享车险,广东,3\n", encoding="utf-8"
    )
    result = run(factory, "cti", "counts", csv_source(path, interval_minutes=5))
    assert (result.counts, result.error) == (3, "")
    assert buckets(factory, "cti") == {("01:00", "尊享车险"): 3}


def test_detection_reads_count_sources(factory, tmp_path):
    path = tmp_path / "cti.csv"
    path.write_text("interval_start,product_code,count\n2026-11-23T09:00:00+08:00,CAR-001,30\n")
    run(factory, "cti", "counts", csv_source(path, interval_minutes=5))
    with factory() as session:
        got = window_counts(
            session,
            ["source", "product_code", "channel"],
            datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        )
    assert got == {("cti", "CAR-001", "hotline"): 30}


def test_http_counts_with_since_and_overlap(factory, httpserver: HTTPServer):
    hours: list[dict[str, Any]] = [
        {"hour": "2026-11-23T08:00:00+08:00", "mentions": 12, "brand": "安心车险"},
        {"hour": "2026-11-23T09:00:00+08:00", "mentions": 5, "brand": "安心车险"},
    ]

    def handler(request: Request) -> Response:
        since = request.args.get("since")
        chosen = [
            h
            for h in hours
            if since is None or datetime.fromisoformat(h["hour"]) >= datetime.fromisoformat(since)
        ]
        return Response(__import__("json").dumps({"rows": chosen}), content_type="application/json")

    httpserver.expect_request("/counts").respond_with_handler(handler)
    config = {
        "name": "listening",
        "kind": "counts",
        "http": {"url": httpserver.url_for("/counts"), "backoff_seconds": 0},
        "records_path": "rows",
        "interval_minutes": 60,
        "channel": "social",
        "columns": {"interval_start": "hour", "count": "mentions", "product_name": "brand"},
        "products": PRODUCTS,
    }
    source = CountsCollector(CountsSource.model_validate(config), sleep=lambda _s: None)
    assert run(factory, "listening", "counts", source).counts == 17
    hours[1]["mentions"] = 9  # the current hour grew; it is delivered again (since is inclusive)
    result = run(factory, "listening", "counts", source, now=NOW)
    assert httpserver.log[-1][0].args["since"] == "2026-11-23T01:00:00+00:00"
    assert result.counts == 4 and counted(factory, "listening") == 21


def test_split_interval_keeps_the_total():
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    parts = split_interval(start, 60, 25)
    assert len(parts) == 12 and sum(n for _, n in parts) == 25
    assert split_interval(start, 1, 4) == [(start, 4)]


HOURS: list[dict[str, Any]] = [
    {"hour": f"2026-11-23T{8 + i // 4:02d}:{15 * (i % 4):02d}:00+08:00", "calls": i + 1}
    for i in range(7)
]  # seven 15-minute intervals, 28 calls in all


def counts_api(server: HTTPServer, **overrides) -> CountsCollector:
    config = {
        "name": "cti",
        "kind": "counts",
        "http": {"url": server.url_for("/counts"), "backoff_seconds": 0, "max_attempts": 1},
        "records_path": "rows",
        "columns": {"interval_start": "hour", "count": "calls"},
        "channel": "hotline",
        **overrides,
    }
    return CountsCollector(CountsSource.model_validate(config), sleep=lambda _s: None)


def since_filtered(request: Request) -> list[dict]:
    since = request.args.get("since")
    return [
        h
        for h in HOURS
        if since is None or datetime.fromisoformat(h["hour"]) >= datetime.fromisoformat(since)
    ]


def answer(body: dict) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def paged_counts(request: Request) -> Response:
    """page/page_size, offset/limit or an opaque next-cursor token, after ``since``."""
    rows = since_filtered(request)
    if "page" in request.args:
        page, size = int(request.args["page"]), int(request.args["page_size"])
        return answer({"rows": rows[(page - 1) * size : page * size]})
    if "offset" in request.args:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        return answer({"rows": rows[offset : offset + limit]})
    start = int(request.args.get("cursor", "0"))
    following = str(start + 3) if start + 3 < len(rows) else None
    return answer({"rows": rows[start : start + 3], "next_cursor": following})


@pytest.mark.parametrize(
    ("pagination", "pages"),
    [
        ("page", ["page=1", "page=2", "page=3"]),
        ("offset", ["offset=0", "offset=3", "offset=6"]),
        ("cursor", ["", "cursor=3", "cursor=6"]),
    ],
)
def test_http_counts_follow_every_page(factory, httpserver: HTTPServer, pagination, pages):
    httpserver.expect_request("/counts").respond_with_handler(paged_counts)
    source = counts_api(httpserver, pagination=pagination, page_size=3)
    result = run(factory, "cti", "counts", source)
    assert (result.counts, result.quarantined, result.error) == (28, 0, "")
    asked = [
        "&".join(f"{k}={v}" for k, v in r.args.items() if k in ("page", "offset", "cursor"))
        for r, _ in httpserver.log
    ]
    assert asked == pages and counted(factory, "cti") == 28
    assert json.loads(state(factory, "cti").cursor) == {"since": "2026-11-23T01:30:00+00:00"}
    # Next run: since the newest interval (inclusive), which is re-delivered and replaces.
    httpserver.clear_log()
    HOURS[-1]["calls"] = 10  # the current interval grew from 7 to 10
    try:
        result = run(factory, "cti", "counts", source)
    finally:
        HOURS[-1]["calls"] = 7
    assert httpserver.log[0][0].args["since"] == "2026-11-23T01:30:00+00:00"
    assert result.counts == 3 and counted(factory, "cti") == 31


def test_http_counts_resume_at_the_failed_page(factory, httpserver: HTTPServer):
    failing = {"page": "2"}

    def flaky(request: Request) -> Response:
        if request.args.get("page") == failing.get("page"):
            return Response("busy", status=503)
        return paged_counts(request)

    httpserver.expect_request("/counts").respond_with_handler(flaky)
    source = counts_api(httpserver, pagination="page", page_size=3)
    result = run(factory, "cti", "counts", source)
    assert result.counts == 6 and "503" in result.error  # page 1 (1+2+3) kept, cursor at page 2
    assert json.loads(state(factory, "cti").cursor)["page"] == 2
    failing.clear()
    httpserver.clear_log()
    result = run(factory, "cti", "counts", source)
    assert [r.args["page"] for r, _ in httpserver.log] == ["2", "3"]
    assert (result.counts, result.error) == (22, "") and counted(factory, "cti") == 28


def test_old_plain_since_cursor_still_works(factory, httpserver: HTTPServer):
    httpserver.expect_request("/counts").respond_with_handler(paged_counts)
    with factory() as session, session.begin():
        session.add(SourceState(name="cti", kind="counts", cursor="2026-11-23T01:00:00+00:00"))
    result = run(factory, "cti", "counts", counts_api(httpserver, pagination="offset"))
    assert httpserver.log[0][0].args["since"] == "2026-11-23T01:00:00+00:00"
    assert result.counts == 5 + 6 + 7


def test_pagination_is_refused_for_a_counts_file(tmp_path):
    with pytest.raises(ValueError, match="pagination applies to http"):
        CountsSource.model_validate(
            {"name": "cti", "kind": "counts", "path": tmp_path / "c.csv", "pagination": "page"}
        )
