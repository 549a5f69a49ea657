"""Links in complaint text never reach a duty message as links (issue 19 item 10).

Robots (WeCom, DingTalk, Feishu) make plain URLs and host names clickable; a complaint sample
``官方退款入口 https://evil.example/refund`` is sent defanged through each channel's real HTTP
request to a local server. The dashboard's own detail and acknowledge links stay live.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from alerts.notify.message import defang, plain, render_html, render_text
from alerts.notify.webhook import WebhookNotifier
from alerts.notify.wecom import WeComNotifier
from config.models import WebhookChannel, WeComChannel
from tests.hostile.corpus import ATTACKER, LINKS
from tests.notify.test_robots import (
    SECRET,
    dingtalk,
    dingtalk_server,
    feishu,
    feishu_server,
    message,
)

LIVE = re.compile(r"(?i)(?:https?|ftp)://(?!radar\.local)|www\.|" + re.escape(ATTACKER))


def hostile_message():
    out = message()
    item = out.notice.items[0]
    object.__setattr__(item, "sample", " ".join(LINKS))
    object.__setattr__(item, "title", f"产品 {LINKS[0]}")
    object.__setattr__(item, "where", f"产品 www.{ATTACKER}")
    return out


def _sent(calls: list[dict]) -> str:
    return json.dumps(calls, ensure_ascii=False)


def _assert_defanged(body: str) -> None:
    assert not LIVE.search(body), LIVE.search(body)
    assert "hxxps://attacker" in body  # still readable for the duty manager
    assert "http://radar.local/alerts?ack=" in body  # our own links stay


def test_dingtalk_message_defangs_links(monkeypatch, httpserver):
    calls: list[dict] = []
    dingtalk_server(httpserver, calls)
    dingtalk(monkeypatch, httpserver, SECRET).send(hostile_message())
    _assert_defanged(_sent(calls))


def test_feishu_message_defangs_links(monkeypatch, httpserver):
    calls: list[dict] = []
    feishu_server(httpserver, calls)
    feishu(monkeypatch, httpserver, SECRET).send(hostile_message())
    _assert_defanged(_sent(calls))


@pytest.mark.parametrize("kind", ["wecom", "webhook"])
def test_wecom_and_webhook_messages_defang_links(monkeypatch, httpserver, kind):
    calls: list[dict] = []

    def handler(request: Request) -> Response:
        calls.append(request.get_json())
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}))

    httpserver.expect_request("/send").respond_with_handler(handler)
    monkeypatch.setenv("T_URL", httpserver.url_for("/send") + "?key=k")
    if kind == "wecom":
        WeComNotifier(WeComChannel(name="wx", kind="wecom", url_env="T_URL")).send(
            hostile_message()
        )
    else:
        config = WebhookChannel(name="hook", kind="webhook", url_env="T_URL", retry_wait_seconds=0)
        WebhookNotifier(config).send(hostile_message())
    _assert_defanged(_sent(calls))


def test_text_and_html_renderings_defang_links():
    notice = hostile_message().notice
    _assert_defanged(render_text(notice))
    _assert_defanged(render_html(notice))


def test_ordinary_numbers_and_dates_are_left_alone():
    for text in ("金额1.5元", "2026.11.23 理赔", "版本v1.2", "电话 138****5678"):
        assert defang(text) == text


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(["http", "https", "HTTPS", "ftp"]),
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,8}){0,2}\.[a-z]{2,6}", fullmatch=True),
    st.sampled_from(["", "入口", "点 ", "(", "「"]),
    st.sampled_from(["", "/x?t=1", ":8080/a", "领取", " 即可"]),
)
def test_property_any_url_loses_scheme_and_host_dots(scheme, host, before, after):
    out = plain(f"{before}{scheme}://{host}{after}")
    assert not re.search(r"(?i)(?:https?|ftp)://", out)
    assert not re.search(r"[a-z0-9-]\.[a-z]", out, re.I), out
