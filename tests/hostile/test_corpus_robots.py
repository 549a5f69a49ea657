"""The hostile corpus in the body of each robot's message (issue 19, "keep them shut").

A robot message carries untrusted text: the alert's title and range come from complaint labels,
and its sample line is a stored complaint's text. The corpus is stored through the real
normalisation (so PII is masked as it would be), then every stored complaint becomes a message
item sent to local stand-ins of WeCom, DingTalk and Feishu. What they receive must be inert (no
live link to the attacker, no Markdown link or image of theirs, no control characters) and hold
no raw identifier. Raw corpus text without PII is sent too: inertness must not depend on ingest.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from alerts.notify.channels import OutgoingMessage, Recipient
from alerts.notify.dingtalk import DingTalkNotifier
from alerts.notify.feishu import FeishuNotifier
from alerts.notify.message import Notice, NoticeItem, where_of
from alerts.notify.ratelimit import SlidingWindowLimiter
from alerts.notify.wecom import WeComNotifier
from collectors.pii import fold_text
from collectors.runner import normalize_all
from config.models import DingTalkChannel, FeishuChannel, WeComChannel
from storage.ingest import ingest_complaints
from storage.models import Complaint
from tests.hostile.corpus import ATTACKER, CONTROL, FORMULAS, LINKS, MARKDOWN
from tests.hostile.test_corpus_paths import RAW_IDENTIFIERS, UNSAFE, records

# A Markdown link or image whose target is not the radar's own dashboard.
FOREIGN_LINK = re.compile(r"\]\((?!http://radar\.local)")
PATHS = {"wecom": "/cgi-bin/webhook/send", "dingtalk": "/robot/send", "feishu": "/open-apis/bot"}


def strings(value: object) -> list[str]:
    """Every string in a decoded JSON body, as the robot shows it."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def stored_items(factory, now: datetime) -> list[NoticeItem]:
    """One item per stored corpus complaint, built as ``alerts.notify.delivery`` builds them."""
    good, _bad = normalize_all(records(now), "hotline", now)
    with factory() as session:
        ingest_complaints(session, good)
        session.commit()
        rows = list(session.scalars(select(Complaint).order_by(Complaint.id)))
    return [
        NoticeItem(
            alert_id=row.id,
            state="firing",
            severity=1,
            title=f"产品 {row.product_name} 投诉激增",
            count=30,
            expected=4.0,
            where=where_of({"product_code": row.product_code}, row.product_name, [row.region]),
            since=now,
            detail_url=f"http://radar.local/alerts?alert={row.id}",
            ack_url=f"http://radar.local/alerts?ack=t{row.id}",
            sample=row.text,
            related=((row.id + 1000, row.category),),
            related_total=1,
        )
        for row in rows
    ]


def raw_items(now: datetime) -> list[NoticeItem]:
    """Corpus text straight into every untrusted field, never stored or masked."""
    values = MARKDOWN + FORMULAS + LINKS + CONTROL
    return [
        NoticeItem(
            alert_id=10_000 + i,
            state="firing",
            severity=2,
            title=value,
            count=5,
            expected=1.0,
            where=value,
            since=now,
            detail_url="http://radar.local/alerts",
            sample=value,
            related=((1, value),),
            related_total=1,
        )
        for i, value in enumerate(values)
    ]


def notifier(kind: str, httpserver, monkeypatch):
    monkeypatch.setenv("T_ROBOT_URL", httpserver.url_for(PATHS[kind]) + "?key=k")
    limiter = SlidingWindowLimiter([(10_000, 60.0)])
    if kind == "wecom":
        config = WeComChannel(name="wx", kind="wecom", url_env="T_ROBOT_URL")
        return WeComNotifier(config, limiter=limiter)
    if kind == "dingtalk":
        config = DingTalkChannel(name="ding", kind="dingtalk", url_env="T_ROBOT_URL")
        return DingTalkNotifier(config, limiter=limiter)
    config = FeishuChannel(name="fs", kind="feishu", url_env="T_ROBOT_URL")
    return FeishuNotifier(config, limiter=limiter)


def send_all(kind: str, items: list[NoticeItem], httpserver, monkeypatch) -> list[str]:
    """Send ``items`` a few per message (as grouped sends do); the bodies the robot received."""
    bodies: list[str] = []

    def handler(request: Request) -> Response:
        bodies.append(json.dumps(request.get_json(), ensure_ascii=False))
        return Response(json.dumps({"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}))

    httpserver.expect_request(PATHS[kind]).respond_with_handler(handler)
    robot = notifier(kind, httpserver, monkeypatch)
    recipient = Recipient(id="oncall-a", name="值班甲", phone="13900000001", feishu_id="ou_abc")
    for start in range(0, len(items), 4):
        notice = Notice(items=items[start : start + 4], dashboard_url="http://radar.local")
        robot.send(OutgoingMessage(idempotency_key=f"k{start}", notice=notice, recipient=recipient))
    assert len(bodies) >= len(items) // 4
    assert "\n".join(bodies).count("样例") >= len(items) // 2  # the sample lines got there
    return bodies


def assert_inert(bodies: list[str]) -> None:
    """No live link of the attacker's, no Markdown link or image to them, no raw identifier."""
    for body in bodies:
        assert ATTACKER not in body.lower(), body[:200]  # every link of theirs defanged
        assert not FOREIGN_LINK.search(body), body[:200]
        folded = fold_text(body)
        assert not [r for r in RAW_IDENTIFIERS if r in folded], body[:200]


def control_characters(bodies: list[str]) -> list[str]:
    return [v for body in bodies for v in strings(json.loads(body)) if UNSAFE.search(v)]


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_robot_messages_of_stored_complaints_are_inert_and_hold_no_pii(
    factory, httpserver, monkeypatch, kind
):
    bodies = send_all(kind, stored_items(factory, datetime.now(UTC)), httpserver, monkeypatch)
    assert_inert(bodies)
    assert control_characters(bodies) == []


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_robot_messages_of_raw_corpus_text_are_inert(httpserver, monkeypatch, kind):
    assert_inert(send_all(kind, raw_items(datetime.now(UTC)), httpserver, monkeypatch))


def test_robot_messages_drop_control_characters_of_raw_text(httpserver, monkeypatch):
    bodies = send_all("wecom", raw_items(datetime.now(UTC)), httpserver, monkeypatch)
    assert control_characters(bodies) == []
