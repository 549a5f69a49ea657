"""A broken notification channel is visible: the query on both databases, the wall's health
banner and the 数据源 page, from outbox rows as the worker writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streamlit.testing.v1 import AppTest

from dashboard.channel_health import channel_health
from storage.db import make_session_factory, session_scope
from storage.models import Notification
from tests.dashboard.test_pages import app_env, page_script  # noqa: F401  (fixture)

WRONG_SECRET = "ding: errcode 310000 sign not match"


def outbox(engine, now: datetime, *rows: tuple[str, str, str]) -> None:
    """(channel, status, last_error) rows, oldest first, as delivery leaves them."""
    with session_scope(make_session_factory(engine)) as session:
        for i, (channel, status, error) in enumerate(rows):
            session.add(
                Notification(
                    idempotency_key=f"k{now.timestamp()}:{i}", alert_id=None, alert_state="",
                    receiver="oncall-a", channel=channel, kind="message", status=status,
                    attempts=1, last_error=error, created_at=now, next_attempt_at=now,
                    sent_at=now if status == "sent" else None, message="周报",
                )
            )  # fmt: skip


def test_the_latest_attempt_decides_a_channels_health(engine):
    now = datetime.now(UTC)
    outbox(
        engine, now, ("ding", "sent", ""), ("ding", "failed", WRONG_SECRET), ("mail", "sent", "")
    )
    frame = channel_health(engine, now - timedelta(hours=24))
    assert frame[["name", "status", "last_error", "sent_24h", "failed_24h"]].values.tolist() == [
        ["ding", "failing", WRONG_SECRET, 1, 1],
        ["mail", "ok", "", 1, 0],
    ]
    outbox(engine, now + timedelta(seconds=1), ("ding", "sent", ""))  # the secret was fixed
    assert channel_health(engine, now - timedelta(hours=24))["status"].tolist() == ["ok", "ok"]


def test_wall_banner_and_sources_page_name_the_failing_channel(app_env):  # noqa: F811
    outbox(app_env, datetime.now(UTC), ("ding", "failed", WRONG_SECRET), ("mail", "sent", ""))
    wall = AppTest.from_string(page_script("wall"), default_timeout=60).run()
    assert not wall.exception
    assert any("通知渠道故障：ding（ding: errcode 310000" in e.value for e in wall.error)
    sources = AppTest.from_string(page_script("sources"), default_timeout=60).run()
    assert not sources.exception
    assert any(e.value.startswith("ding：🔴 发送失败 ding: errcode 310000") for e in sources.error)
    table = next(d.value for d in sources.dataframe if "24小时失败" in d.value.columns)
    assert table["名称"].tolist() == ["ding", "mail"]
