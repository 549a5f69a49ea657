"""Tencent Cloud SMS against a local stand-in that checks requests as the platform documents: the
TC3-HMAC-SHA256 signature (computed here independently, step by step), X-TC-* headers, a
timestamp at most five minutes off, the approved template's variables and one message per
number per 30 seconds; then through the outbox with a fallback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.channels import PermanentError, RateLimited, Recipient
from alerts.notify.dispatch import deliver_due, plan
from alerts.notify.registry import build_channel
from alerts.notify.tencent import (
    TencentSmsNotifier,
    classify,
    tc3_sign_canonical,
    tc3_signature,
)
from config.models import TencentSmsChannel
from storage.db import session_scope
from storage.models import AlertEvent, Notification
from tests.notify.conftest import add_alert, make_config
from tests.notify.test_robots import HOSTILE, message

SECRET_ID, SECRET_KEY, APP_ID = "AKID-test", "tc-secret-0123", "1400006666"
# Approved templates and their variable counts: the page, and the page with a reply code.
TEMPLATES = {"1110": 3, "2220": 4}


def expected_signature(request: Request, body: bytes, timestamp: str) -> str:
    """The documented steps, written out again so a shared mistake cannot pass."""
    headers = (
        f"content-type:{request.headers['Content-Type'].lower()}\n"
        f"host:{request.headers['Host'].lower()}\n"
    )
    canonical = f"POST\n/\n\n{headers}\ncontent-type;host\n{hashlib.sha256(body).hexdigest()}"
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(f"TC3{SECRET_KEY}".encode(), date), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def tencent_server(
    httpserver,
    sent: list[dict],
    limit: int = 12,
    replies: list[dict] | None = None,
    now: Callable[[], float] = time.time,
) -> None:
    """``replies``: texts phones sent back; PullSmsReplyStatus hands each out once. ``now``:
    the clock of the per-number limit (a test's simulated clock; signatures use the real one)."""
    last_sent: dict[str, float] = {}
    replies = replies if replies is not None else []

    def answer(body: dict) -> Response:  # Tencent answers HTTP 200 with the verdict inside
        body = {"Response": {**body, "RequestId": "r"}}
        return Response(json.dumps(body), status=200, content_type="application/json")

    def error(code: str) -> Response:
        return answer({"Error": {"Code": code, "Message": code}})

    def handler(request: Request) -> Response:
        body = request.get_data()
        auth = request.headers.get("Authorization", "")
        timestamp = request.headers.get("X-TC-Timestamp", "")
        if not auth.startswith("TC3-HMAC-SHA256 Credential=") or not timestamp.isdigit():
            return error("AuthFailure.InvalidAuthorization")
        fields = dict(p.split("=", 1) for p in auth.split(" ", 1)[1].split(", "))
        secret_id, date, service, tail = fields["Credential"].split("/")
        if secret_id != SECRET_ID:
            return error("AuthFailure.SecretIdNotFound")
        if abs(time.time() - int(timestamp)) > 300:
            return error("AuthFailure.SignatureExpire")
        if date != datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d"):
            return error("AuthFailure.SignatureFailure")  # the scope's date is the timestamp's
        if (service, tail, fields["SignedHeaders"]) != ("sms", "tc3_request", "content-type;host"):
            return error("AuthFailure.InvalidAuthorization")
        signature = expected_signature(request, body, timestamp)
        if not hmac.compare_digest(fields["Signature"], signature):
            return error("AuthFailure.SignatureFailure")
        if request.headers.get("X-TC-Version") != "2021-01-11":
            return error("NoSuchVersion")
        action = request.headers.get("X-TC-Action")
        params = json.loads(body)
        if params.get("SmsSdkAppId") != APP_ID:
            return error("InvalidParameterValue.SdkAppIdNotExist")
        if action == "PullSmsReplyStatus":
            if not 1 <= params.get("Limit", 0) <= 100:
                return error("InvalidParameterValue")
            taken = replies[: params["Limit"]]
            del replies[: len(taken)]
            return answer({"PullSmsReplyStatusSet": taken})
        if action != "SendSms":
            return error("InvalidAction")
        values = params.get("TemplateParamSet")
        wanted = TEMPLATES.get(params.get("TemplateId"))
        if wanted is None:
            return error("FailedOperation.TemplateIncorrectOrUnapproved")
        if not isinstance(values, list) or len(values) != wanted:
            return error("FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
        if wanted == 4 and not (values[3].isdigit() and len(values[3]) == 4):
            return error("InvalidParameterValue.TemplateParameterFormatError")
        if any(not isinstance(v, str) or len(v) > limit for v in values):
            return error("InvalidParameterValue.TemplateParameterLengthLimit")
        [phone] = params["PhoneNumberSet"]
        if phone in last_sent and now() - last_sent[phone] < 30:
            status = {"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "30s"}
            return answer({"SendStatusSet": [{"PhoneNumber": phone, **status}]})
        last_sent[phone] = now()
        sent.append(params)
        status = {"Code": "Ok", "Message": "send success", "SerialNo": f"s{len(sent)}"}
        return answer({"SendStatusSet": [{"PhoneNumber": phone, **status}]})

    httpserver.expect_request("/", method="POST").respond_with_handler(handler)


def channel_config(httpserver, **kw) -> dict:
    return {"name": "tsms", "kind": "tencent_sms", "secret_id_env": "T_TC_ID",
            "secret_key_env": "T_TC_KEY", "sdk_app_id": APP_ID, "sign_name": "投诉雷达",
            "template_id": "1110", "endpoint": httpserver.url_for("/"),
            "retry_wait_seconds": 0, **kw}  # fmt: skip


def sms(httpserver, monkeypatch, secret: str = SECRET_KEY, **kw) -> TencentSmsNotifier:
    monkeypatch.setenv("T_TC_ID", SECRET_ID)
    monkeypatch.setenv("T_TC_KEY", secret)
    return TencentSmsNotifier(TencentSmsChannel(**channel_config(httpserver, **kw)))


def test_the_signer_reproduces_the_documented_example():
    """Tencent's signature v3 guide: DescribeInstances on cvm at 1551113065."""
    payload = (
        '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    canonical = (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
        "\ncontent-type;host\n" + hashlib.sha256(payload.encode()).hexdigest()
    )
    assert hashlib.sha256(payload.encode()).hexdigest().startswith("35e9c5b0e3ae6753")
    signature = tc3_sign_canonical("Gu5t9xGARNpq86cd98joQYCN3*******", 1551113065, "cvm", canonical)
    assert signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


def test_a_signed_sms_with_inert_template_variables_reaches_the_number(monkeypatch, httpserver):
    sent: list[dict] = []
    tencent_server(httpserver, sent)
    sms(httpserver, monkeypatch).send(message(items=2))
    [params] = sent
    assert params["PhoneNumberSet"] == ["+8613900000001"] and params["TemplateId"] == "1110"
    assert params["SignName"] == "投诉雷达" and params["SessionContext"] == "k1"
    level, what, count = params["TemplateParamSet"]
    assert level == "Ⅰ级" and count == "2" and len(what) <= 12
    assert what.startswith("产品 P000") and "<" not in what and HOSTILE not in json.dumps(params)


def test_a_wrong_secret_is_permanent(monkeypatch, httpserver):
    tencent_server(httpserver, [])
    with pytest.raises(PermanentError, match=r"AuthFailure\.SignatureFailure"):
        sms(httpserver, monkeypatch, secret="wrong").send(message())


def test_a_stale_timestamp_is_refused_and_permanent(httpserver):
    """Five minutes off is the documented limit; a worker whose clock drifted must fall back."""
    tencent_server(httpserver, [])
    host = httpserver.url_for("/").split("/")[2]
    body = json.dumps({"SmsSdkAppId": APP_ID}).encode()
    stamp = int(time.time()) - 301
    date = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Timestamp": str(stamp),
        "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={tc3_signature(SECRET_KEY, stamp, host, body)}",
    }  # fmt: skip
    reply = httpx.post(httpserver.url_for("/"), content=body, headers=headers).json()
    assert reply["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"
    assert isinstance(classify("AuthFailure.SignatureExpire", "x"), PermanentError)


def test_template_variables_over_the_accounts_limit_are_cut_before_sending(monkeypatch, httpserver):
    sent: list[dict] = []
    tencent_server(httpserver, sent, limit=6)
    sms(httpserver, monkeypatch, variable_limit=6).send(message())
    assert all(len(v) <= 6 for v in sent[0]["TemplateParamSet"])
    with pytest.raises(PermanentError, match="TemplateParameterLengthLimit"):
        sms(httpserver, monkeypatch, variable_limit=12).send(message(phone="13900000009"))


def test_one_sms_per_number_per_30_seconds_is_held_back_before_the_platform(
    monkeypatch, httpserver
):
    sent: list[dict] = []
    tencent_server(httpserver, sent)
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
    assert [p["PhoneNumberSet"] for p in sent] == [["+8613900000001"], ["+8613900000002"]]


def test_the_platforms_own_limit_is_a_rate_limit(monkeypatch, httpserver):
    tencent_server(httpserver, [])
    sms(httpserver, monkeypatch).send(message())
    second = sms(httpserver, monkeypatch)  # another worker: its own limiter is empty
    with pytest.raises(RateLimited, match="PhoneNumberThirtySecondLimit"):
        second.send(message())


def test_a_person_without_a_mobile_cannot_get_an_sms(monkeypatch, httpserver):
    tencent_server(httpserver, [])
    with pytest.raises(PermanentError, match="no mobile"):
        sms(httpserver, monkeypatch).send(message(phone=""))


def test_through_the_outbox_a_severe_alert_texts_the_on_call_once(
    factory, clock, monkeypatch, httpserver
):
    sent: list[dict] = []
    tencent_server(httpserver, sent)
    monkeypatch.setenv("T_TC_ID", SECRET_ID)
    monkeypatch.setenv("T_TC_KEY", SECRET_KEY)
    config = make_config(channels=[channel_config(httpserver)],
                         routes={"group_wait_seconds": 0, "escalation_minutes": {}})  # fmt: skip
    built = {"tsms": build_channel(config.channels.channels[0])}
    with factory() as session:
        add_alert(session, clock.now, severity=1)
    for _ in range(3):
        with session_scope(factory) as session:
            plan(session, config, clock.now, "http://radar.local")
        deliver_due(factory, built, config, clock.now)
        clock.advance(minutes=1)
    assert [p["PhoneNumberSet"] for p in sent] == [["+8613900000001"]]
    assert sent[0]["TemplateParamSet"] == ["Ⅰ级", "产品 P001 投诉激增", "1"]


def test_a_wrong_secret_falls_back_at_once_naming_tencent(factory, clock, monkeypatch, httpserver):
    tencent_server(httpserver, [])
    monkeypatch.setenv("T_TC_ID", SECRET_ID)
    monkeypatch.setenv("T_TC_KEY", "wrong")
    config = make_config(
        channels=[channel_config(httpserver, fallback="log"), {"name": "log", "kind": "log"}],
        routes={"group_wait_seconds": 0, "escalation_minutes": {}},
    )
    built = {c.name: build_channel(c) for c in config.channels.channels}
    with factory() as session:
        add_alert(session, clock.now, severity=1)
    with session_scope(factory) as session:
        plan(session, config, clock.now, "http://radar.local")
    deliver_due(factory, built, config, clock.now)  # fails, falls back at once
    deliver_due(factory, built, config, clock.now)  # the fallback row goes out
    with factory() as session:
        rows = {r.channel: r for r in session.scalars(select(Notification))}
        trail = [e.message for e in session.scalars(select(AlertEvent))]
    assert rows["tsms"].status == "failed" and rows["tsms"].attempts == 1
    assert rows["log"].status == "sent" and "tsms 发送失败，改由 log 发送" in rows["log"].message
    assert any("tsms 连续失败 1 次，改用 log" in t for t in trail)
