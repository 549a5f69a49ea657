"""Feeds served over a real local HTTP server: RSS, Atom, JSON Feed, keyword rules."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from collectors.feed import FeedCollector, match_rule, plain_text
from config.sources import FeedRule, FeedSource
from tests.collectors.helpers import complaints, quarantined, run

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>舆情监测</title>
<item><guid>p1</guid><title>安心保险拒赔！</title>
<description><![CDATA[<p>百万医疗住院 <b>拒赔</b>，理由是既往症 13812345678</p>]]></description>
<pubDate>Mon, 23 Nov 2026 01:00:00 GMT</pubDate></item>
<item><guid>p2</guid><title>安心保险理赔拖延两个月</title><description>车险理赔拖延</description>
<pubDate>Mon, 23 Nov 2026 01:05:00 GMT</pubDate></item>
<item><guid>p3</guid><title>今天天气不错</title><description>和保险无关的帖子</description>
<pubDate>Mon, 23 Nov 2026 01:10:00 GMT</pubDate></item>
<item><guid>p4</guid><title>没有日期的帖子</title><description>安心保险 退保</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>news</title><id>urn:x</id>
<updated>2026-11-23T01:00:00Z</updated>
<entry><id>urn:a1</id><title>安心保险 退保难 引发投诉</title><updated>2026-11-23T02:00:00Z</updated>
<summary>多名客户反映退保难</summary></entry></feed>"""

RULES = [
    {"all_of": ["安心"], "any_of": ["拒赔"], "product_code": "HLT-001", "category": "理赔"},
    {"all_of": ["安心"], "any_of": ["理赔拖延"], "product_code": "CAR-001", "category": "理赔"},
    {"all_of": ["安心"], "any_of": ["退保"], "category": "退保", "event_tag": "退保难"},
]


def collector(server: HTTPServer, path: str, **overrides) -> FeedCollector:
    config = {
        "name": "weibo",
        "kind": "feed",
        "url": server.url_for(path),
        "rules": RULES,
        "backoff_seconds": 0,
        **overrides,
    }
    return FeedCollector(FeedSource.model_validate(config), sleep=lambda _s: None)


def test_rss_posts_mapped_by_rules_unmatched_kept(factory, httpserver: HTTPServer):
    httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
    result = run(factory, "weibo", "feed", collector(httpserver, "/rss"))
    assert (result.inserted, result.quarantined, result.error) == (3, 1, "")
    rows = {c.external_id: c for c in complaints(factory, "weibo")}
    assert rows["p1"].product_code == "HLT-001" and rows["p2"].product_code == "CAR-001"
    assert rows["p3"].product_code == "" and rows["p3"].category == ""  # unmapped, not dropped
    assert {c.channel for c in rows.values()} == {"social"}
    assert "<b>" not in rows["p1"].text and "13812345678" not in rows["p1"].text
    assert rows["p1"].received_at.isoformat() == "2026-11-23T01:00:00+00:00"
    assert quarantined(factory, "weibo")[0].reason == "missing received_at"
    again = run(factory, "weibo", "feed", collector(httpserver, "/rss"))
    # The feed delivers the same posts again: the bad one is a duplicate too, not quarantined twice.
    assert (again.inserted, again.duplicates, again.quarantined) == (0, 4, 0)
    assert len(quarantined(factory, "weibo")) == 1


def test_atom_and_media_channel(factory, httpserver: HTTPServer):
    httpserver.expect_request("/atom").respond_with_data(ATOM, content_type="application/atom+xml")
    result = run(factory, "news", "feed", collector(httpserver, "/atom", channel="media"))
    assert result.inserted == 1
    (c,) = complaints(factory, "news")
    assert (c.channel, c.event_tag, c.category) == ("media", "退保难", "退保")


def test_json_feed(factory, httpserver: HTTPServer):
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {
                "id": "j1",
                "content_text": "安心 拒赔",
                "date_published": "2026-11-23T09:00:00+08:00",
            },
            {
                "id": "j2",
                "content_html": "<i>其他</i>",
                "date_published": "2026-11-23T09:01:00+08:00",
            },
            "not an item",
        ],
    }
    httpserver.expect_request("/feed.json").respond_with_json(feed)
    result = run(factory, "listen", "feed", collector(httpserver, "/feed.json"))
    assert (result.inserted, result.quarantined) == (2, 1)


def test_garbage_feed_is_a_source_error(factory, httpserver: HTTPServer):
    httpserver.expect_request("/rss").respond_with_data("\x00\x01 not xml at all <<<")
    result = run(factory, "weibo", "feed", collector(httpserver, "/rss"))
    assert "not a readable" in result.error


def test_rule_matching_and_html_stripping():
    rules = [FeedRule.model_validate(r) for r in RULES]
    matched = match_rule("安心保险 拒赔", rules)
    assert matched is not None and matched.product_code == "HLT-001"
    assert match_rule("别家保险 拒赔", rules) is None
    assert plain_text("<script>alert(1)</script><p>a &amp; b</p>") == "alert(1) a & b"
