"""Robots and webhooks against real local HTTP servers that check signatures like the platforms do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Request, Response

from alerts.notify.channels import DeliveryError, OutgoingMessage, RateLimited, Recipient
from alerts.notify.dingtalk import DingTalkNotifier
from alerts.notify.feishu import FeishuNotifier
from alerts.notify.message import Notice, NoticeItem
from alerts.notify.ratelimit import SlidingWindowLimiter
from alerts.notify.webhook import WebhookNotifier
from alerts.notify.wecom import WeComNotifier
from config.models import DingTalkChannel, FeishuChannel, WebhookChannel, WeComChannel

SECRET = "SEC0123456789abcdef"
HOSTILE = "<@all> **全员** [点我](http://evil.example) @所有人 # 标题\n<font color=red>x</font>"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def message(items: int = 1, phone: str = "13900000001") -> OutgoingMessage:
    notice = Notice(
        items=[
            NoticeItem(
                alert_id=i + 1,
                state="firing",
                severity=1,
                title=f"产品 P{i:03d} {HOSTILE}",
                count=40 + i,
                expected=5,
                where="产品 P001 · 地区 上海",
                since=NOW,
                detail_url=f"http://radar.local/alerts?alert={i + 1}",
                ack_url=f"http://radar.local/alerts?ack=token{i + 1}",
                sample=HOSTILE,
            )
            for i in range(items)
        ],
        dashboard_url="http://radar.local",
    )
    recipient = Recipient(id="oncall-a", name="值班甲", phone=phone, feishu_id="ou_abc")
    return OutgoingMessage(idempotency_key="k1", notice=notice, recipient=recipient)


def no_limit() -> SlidingWindowLimiter:
    """A limiter that never blocks, as when another worker shares the robot."""
    return SlidingWindowLimiter([(10_000, 60.0)])


# --- DingTalk: the server side, computed as DingTalk documents it --------------------------------


def dingtalk_server(httpserver, calls: list[dict]) -> None:
    window: list[float] = []

    def handler(request: Request) -> Response:
        timestamp, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
        string_to_sign = f"{timestamp}\n{SECRET}".encode()
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), string_to_sign, hashlib.sha256).digest()
        ).decode()
        fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < 3_600_000
        if not (fresh and hmac.compare_digest(sign, expected)):
            return Response(json.dumps({"errcode": 310000, "errmsg": "sign not match"}))
        now = time.monotonic()
        window[:] = [t for t in window if t > now - 60] + [now]
        if len(window) > 20:
            body = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            return Response(json.dumps(body))
        calls.append(request.get_json())
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}))

    httpserver.expect_request("/robot/send").respond_with_handler(handler)


def dingtalk(monkeypatch, httpserver, secret: str, limiter=None) -> DingTalkNotifier:
    monkeypatch.setenv("T_DING_URL", httpserver.url_for("/robot/send") + "?access_token=abc")
    monkeypatch.setenv("T_DING_SECRET", secret)
    config = DingTalkChannel(
        name="ding", kind="dingtalk", url_env="T_DING_URL", secret_env="T_DING_SECRET",
        retry_wait_seconds=0,
    )  # fmt: skip
    return DingTalkNotifier(config, limiter=limiter)


def test_dingtalk_signed_markdown_mentions_the_on_call_and_neutralises_hostile_text(
    monkeypatch, httpserver
):
    calls: list[dict] = []
    dingtalk_server(httpserver, calls)
    dingtalk(monkeypatch, httpserver, SECRET).send(message())
    [body] = calls
    assert body["msgtype"] == "markdown"
    assert body["at"] == {"atMobiles": ["13900000001"], "isAtAll": False}
    text = body["markdown"]["text"]
    assert "@13900000001" in text and "[一键确认](http://radar.local/alerts?ack=token1)" in text
    for injected in ("<@all>", "@所有人", "**全员**", "[点我](", "<font", "\n# 标题"):
        assert injected not in text
    assert "＜＠all＞" in text


def test_dingtalk_wrong_secret_gets_310000(monkeypatch, httpserver):
    dingtalk_server(httpserver, [])
    with pytest.raises(DeliveryError, match="310000"):
        dingtalk(monkeypatch, httpserver, "SECwrong").send(message())


def test_dingtalk_over_20_per_minute_gets_130101_as_rate_limited(monkeypatch, httpserver):
    calls: list[dict] = []
    dingtalk_server(httpserver, calls)
    notifier = dingtalk(monkeypatch, httpserver, SECRET, limiter=no_limit())
    for _ in range(20):
        notifier.send(message())
    with pytest.raises(RateLimited, match="130101"):
        notifier.send(message())
    assert len(calls) == 20


def test_own_limiter_holds_the_21st_message_without_calling_the_robot(monkeypatch, httpserver):
    calls: list[dict] = []
    dingtalk_server(httpserver, calls)
    clock = [0.0]
    notifier = dingtalk(
        monkeypatch, httpserver, SECRET, SlidingWindowLimiter([(20, 60.0)], lambda: clock[0])
    )
    for _ in range(20):
        notifier.send(message())
    with pytest.raises(RateLimited) as raised:
        notifier.send(message())
    assert len(calls) == 20 and 59 < raised.value.retry_after <= 60
    clock[0] = 60.5  # a minute later our limiter lets the next one through
    assert notifier.limiter.wait_time() == 0


# --- Feishu ------------------------------------------------------------------------------------


def feishu_server(httpserver, calls: list[dict]) -> None:
    window: list[float] = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        timestamp = str(body.get("timestamp", ""))
        key = f"{timestamp}\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 3600
        if not (fresh and hmac.compare_digest(str(body.get("sign", "")), expected)):
            msg = "sign match fail or timestamp is not within one hour from current time"
            return Response(json.dumps({"code": 19021, "data": {}, "msg": msg}))
        now = time.monotonic()
        window[:] = [t for t in window if t > now - 1] + [now]
        if len(window) > 5:
            return Response(json.dumps({"code": 11232, "data": {}, "msg": "frequency limited"}))
        calls.append(body)
        return Response(json.dumps({"code": 0, "data": {}, "msg": "success"}))

    httpserver.expect_request("/open-apis/bot/v2/hook/xyz").respond_with_handler(handler)


def feishu(monkeypatch, httpserver, secret: str, limiter=None) -> FeishuNotifier:
    monkeypatch.setenv("T_FS_URL", httpserver.url_for("/open-apis/bot/v2/hook/xyz"))
    monkeypatch.setenv("T_FS_SECRET", secret)
    config = FeishuChannel(
        name="fs", kind="feishu", url_env="T_FS_URL", secret_env="T_FS_SECRET",
        retry_wait_seconds=0,
    )  # fmt: skip
    return FeishuNotifier(config, limiter=limiter)


def test_feishu_signed_post_message_with_plain_text_and_mention(monkeypatch, httpserver):
    calls: list[dict] = []
    feishu_server(httpserver, calls)
    feishu(monkeypatch, httpserver, SECRET).send(message())
    [body] = calls
    post = body["content"]["post"]["zh_cn"]
    assert post["title"].startswith("【Ⅰ级投诉预警】")
    elements = [e for line in post["content"] for e in line]
    assert {"tag": "at", "user_id": "ou_abc"} in elements
    texts = " ".join(e.get("text", "") for e in elements)
    assert "<at" not in texts and "一键确认：http://radar.local/alerts?ack=token1" in texts


def test_feishu_wrong_secret_gets_19021_and_burst_gets_11232(monkeypatch, httpserver):
    feishu_server(httpserver, [])
    with pytest.raises(DeliveryError, match="19021"):
        feishu(monkeypatch, httpserver, "wrong").send(message())
    notifier = feishu(monkeypatch, httpserver, SECRET, limiter=no_limit())
    with pytest.raises(RateLimited, match="11232"):
        for _ in range(12):  # more than 5 within a second, unless the machine is very slow
            notifier.send(message())


def test_feishu_own_limiter_allows_5_per_second():
    clock = [0.0]
    limiter = SlidingWindowLimiter([(100, 60.0), (5, 1.0)], lambda: clock[0])
    assert [limiter.acquire() for _ in range(6)][:5] == [0, 0, 0, 0, 0]
    clock[0] = 1.01
    assert limiter.acquire() == 0


# --- WeCom and the generic webhook ----------------------------------------------------------------


def test_wecom_markdown_fits_4096_bytes_and_mentions_by_mobile(monkeypatch, httpserver):
    calls: list[dict] = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        if body["msgtype"] == "markdown" and len(body["markdown"]["content"].encode()) > 4096:
            return Response(json.dumps({"errcode": 40058, "errmsg": "content exceed max length"}))
        calls.append(body)
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}))

    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_handler(handler)
    monkeypatch.setenv("T_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send") + "?key=k")
    config = WeComChannel(name="wx", kind="wecom", url_env="T_WECOM_URL")
    WeComNotifier(config).send(message(items=60))
    markdown, text = calls
    content = markdown["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "条告警未列出" in content and content.rstrip().endswith("[打开看板](http://radar.local)")
    assert text["text"]["mentioned_mobile_list"] == ["13900000001"]


def test_webhook_retries_a_503_with_backoff_and_sends_the_idempotency_key(monkeypatch, httpserver):
    seen: list[str] = []
    replies = iter([503, 503, 200])

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("Idempotency-Key", ""))
        return Response("{}", status=next(replies))

    httpserver.expect_request("/hook").respond_with_handler(handler)
    monkeypatch.setenv("T_HOOK_URL", httpserver.url_for("/hook"))
    config = WebhookChannel(name="hook", kind="webhook", url_env="T_HOOK_URL", retry_wait_seconds=0)
    WebhookNotifier(config).send(message())
    assert seen == ["k1", "k1", "k1"]


def test_missing_secret_is_a_clear_error_without_the_value(monkeypatch):
    monkeypatch.delenv("T_NOPE", raising=False)
    config = WebhookChannel(name="hook", kind="webhook", url_env="T_NOPE")
    with pytest.raises(DeliveryError, match="T_NOPE"):
        WebhookNotifier(config).send(message())
