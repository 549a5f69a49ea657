"""Alibaba Cloud SMS and voice calls against a local stand-in that checks requests as the platform documents:
the HMAC-SHA1 signature, a fresh timestamp, a nonce used once, the template's variables, and
one message per number per minute; then through the outbox with a fallback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Request, Response

from alerts.notify.aliyun import AliyunSmsNotifier, AliyunVoiceNotifier
from alerts.notify.channels import PermanentError, RateLimited, Recipient
from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from config.models import AliyunSmsChannel, AliyunVoiceChannel
from domain.states import AlertState
from storage.db import session_scope
from storage.models import Alert
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_robots import HOSTILE, message

KEY_ID, SECRET = "LTAI-test", "sms-secret-0123"


def encode(text: str) -> str:
    """The encoding in Aliyun's signing guide: URLEncoder, then + → %20, * → %2A, %7E → ~."""
    return (
        urllib.parse.quote_plus(text, safe="")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def aliyun_server(httpserver, sent: list[dict]) -> None:
    nonces: set[str] = set()
    last_sent: dict[str, datetime] = {}

    def reply(status: int, code: str, text: str = "") -> Response:
        body = {"Code": code, "Message": text or code, "RequestId": "r"}
        return Response(json.dumps(body), status=status, content_type="application/json")

    def handler(request: Request) -> Response:
        params = {k: v for k, v in request.args.items()}
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != KEY_ID:
            return reply(404, "InvalidAccessKeyId.NotFound")
        canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
        to_sign = f"GET&{encode('/')}&{encode(canonical)}"
        expected = base64.b64encode(
            hmac.new(f"{SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(signature, expected):
            return reply(400, "SignatureDoesNotMatch")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            return reply(400, "InvalidTimeStamp.Expired")
        if params["SignatureNonce"] in nonces:
            return reply(400, "SignatureNonceUsed")
        nonces.add(params["SignatureNonce"])
        variables = json.loads(params.get("TemplateParam") or params.get("TtsParam") or "{}")
        if set(variables) != {"level", "what", "count"} or any(
            len(v) > 35 for v in variables.values()
        ):
            return reply(200, "isv.INVALID_PARAMETERS")
        phone = params.get("PhoneNumbers") or params.get("CalledNumber", "")
        now = datetime.now(UTC)
        if phone in last_sent and now - last_sent[phone] < timedelta(minutes=1):
            return reply(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        last_sent[phone] = now
        sent.append(params | {"TemplateParam": variables, "PhoneNumbers": phone})
        return reply(200, "OK")

    httpserver.expect_request("/").respond_with_handler(handler)


def sms(httpserver, monkeypatch, secret: str = SECRET, **kw) -> AliyunSmsNotifier:
    monkeypatch.setenv("T_ALI_ID", KEY_ID)
    monkeypatch.setenv("T_ALI_SECRET", secret)
    config = AliyunSmsChannel(
        name="sms", kind="aliyun_sms", access_key_id_env="T_ALI_ID",
        access_key_secret_env="T_ALI_SECRET", sign_name="投诉雷达", template_code="SMS_123",
        endpoint=httpserver.url_for("/"), retry_wait_seconds=0, **kw,
    )  # fmt: skip
    return AliyunSmsNotifier(config)


def test_a_signed_sms_with_inert_template_variables_reaches_the_number(monkeypatch, httpserver):
    sent: list[dict] = []
    aliyun_server(httpserver, sent)
    sms(httpserver, monkeypatch).send(message(items=2))
    [params] = sent
    assert params["PhoneNumbers"] == "13900000001" and params["TemplateCode"] == "SMS_123"
    assert params["SignName"] == "投诉雷达" and params["OutId"] == "k1"
    variables = params["TemplateParam"]
    assert variables["level"] == "Ⅰ级" and variables["count"] == "2"
    assert variables["what"].startswith("产品 P000") and "<" not in variables["what"]
    assert "@" not in variables["what"] and HOSTILE not in json.dumps(variables)


def test_a_wrong_secret_is_permanent(monkeypatch, httpserver):
    aliyun_server(httpserver, [])
    with pytest.raises(PermanentError, match="SignatureDoesNotMatch"):
        sms(httpserver, monkeypatch, secret="wrong").send(message())


def test_one_sms_per_number_per_minute_is_held_back_before_the_platform(monkeypatch, httpserver):
    sent: list[dict] = []
    aliyun_server(httpserver, sent)
    notifier = sms(httpserver, monkeypatch)
    notifier.send(message())
    with pytest.raises(RateLimited, match="per-number"):
        notifier.send(message())
    other = message()
    other = type(other)(
        idempotency_key="k2", notice=other.notice,
        recipient=Recipient(id="b", name="乙", phone="13900000002"),
    )  # fmt: skip
    notifier.send(other)  # another number is not held back
    assert [p["PhoneNumbers"] for p in sent] == ["13900000001", "13900000002"]


def test_the_platforms_own_limit_is_a_rate_limit(monkeypatch, httpserver):
    aliyun_server(httpserver, [])
    sms(httpserver, monkeypatch).send(message())
    second = sms(httpserver, monkeypatch)  # another worker: its own limiter is empty
    with pytest.raises(RateLimited, match="BUSINESS_LIMIT_CONTROL"):
        second.send(message())


def test_a_person_without_a_mobile_cannot_get_an_sms(monkeypatch, httpserver):
    aliyun_server(httpserver, [])
    with pytest.raises(PermanentError, match="no mobile"):
        sms(httpserver, monkeypatch).send(message(phone=""))


def test_through_the_outbox_a_severe_alert_texts_the_on_call_once(
    factory, clock, monkeypatch, httpserver
):
    sent: list[dict] = []
    aliyun_server(httpserver, sent)
    monkeypatch.setenv("T_ALI_ID", KEY_ID)
    monkeypatch.setenv("T_ALI_SECRET", SECRET)
    channel = {"name": "sms", "kind": "aliyun_sms", "access_key_id_env": "T_ALI_ID",
               "access_key_secret_env": "T_ALI_SECRET", "sign_name": "投诉雷达",
               "template_code": "SMS_123", "endpoint": httpserver.url_for("/")}  # fmt: skip
    config = make_config(channels=[channel], routes={"group_wait_seconds": 0,
                                                     "escalation_minutes": {}})  # fmt: skip
    built = {"sms": build_channel(config.channels.channels[0])}
    with factory() as session:
        add_alert(session, clock.now, severity=1)
    for _ in range(3):
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
        deliver_due(factory, built, config, clock.now)
        clock.advance(minutes=1)
    assert [p["PhoneNumbers"] for p in sent] == ["13900000001"]
    assert sent[0]["TemplateParam"] == {"level": "Ⅰ级", "what": "产品 P001 投诉激增", "count": "1"}


def test_a_voice_call_reads_the_tts_template_to_the_on_call(monkeypatch, httpserver):
    sent: list[dict] = []
    aliyun_server(httpserver, sent)
    monkeypatch.setenv("T_ALI_ID", KEY_ID)
    monkeypatch.setenv("T_ALI_SECRET", SECRET)
    config = AliyunVoiceChannel(
        name="call", kind="aliyun_voice", access_key_id_env="T_ALI_ID",
        access_key_secret_env="T_ALI_SECRET", called_show_number="057100000000",
        tts_code="TTS_123", endpoint=httpserver.url_for("/"), retry_wait_seconds=0,
    )  # fmt: skip
    call = AliyunVoiceNotifier(config)
    call.send(message())
    with pytest.raises(RateLimited):
        call.send(message())  # one call per number per minute
    [params] = sent
    assert params["Action"] == "SingleCallByTts" and params["CalledNumber"] == "13900000001"
    assert params["TtsCode"] == "TTS_123" and params["PlayTimes"] == "2"
    assert params["TemplateParam"]["level"] == "Ⅰ级"


def test_severe_alerts_at_night_ring_the_on_call_then_the_manager(
    factory, clock, monkeypatch, httpserver
):
    sent: list[dict] = []
    aliyun_server(httpserver, sent)
    monkeypatch.setenv("T_ALI_ID", KEY_ID)
    monkeypatch.setenv("T_ALI_SECRET", SECRET)
    call = {"name": "call", "kind": "aliyun_voice", "access_key_id_env": "T_ALI_ID",
            "access_key_secret_env": "T_ALI_SECRET", "called_show_number": "057100000000",
            "tts_code": "TTS_123", "endpoint": httpserver.url_for("/")}  # fmt: skip
    routes = {
        "group_wait_seconds": 0,
        "receivers": [{"name": "duty", "channels": ["log"]},
                      {"name": "night-call", "channels": ["call"]}],
        "route": {"receiver": "duty", "routes": [
            {"match": {"severity": 1}, "active": [{"from_time": "22:00", "to_time": "08:00"}],
             "receiver": "night-call", "continue": True},
        ]},
    }  # fmt: skip
    config = make_config(channels=[{"name": "log", "kind": "log"}, call], routes=routes)
    built = {c.name: build_channel(c) for c in config.channels.channels}
    clock.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no call
    with factory() as session:
        add_alert(session, clock.now, severity=1, title="白天")
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, built, config, clock.now)
    assert sent == []  # by day a Ⅰ级 alert goes to the duty robot only
    clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    with factory() as session:
        add_alert(session, clock.now, severity=1, title="夜间", key={"product_code": "P2"})
        session.get(Alert, 1).state = AlertState.ACKNOWLEDGED.value  # the day one was handled
        session.commit()
    for _ in range(2):  # 23:00 and 23:05
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
        deliver_due(factory, built, config, clock.now)
        clock.advance(minutes=5)
    assert [(p["CalledNumber"], p["TemplateParam"]["what"]) for p in sent] == [
        ("13900000001", "夜间"), ("13900000002", "夜间"),
    ]  # fmt: skip
