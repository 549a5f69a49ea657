"""Silences as objects: made with matchers, a reason and an end; previewed before they are made;
listed; ended early; shown on the alert they catch; on both databases and on the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from alerts.state import actions
from alerts.state.silences import Silences, active_silences
from dashboard import queries
from dashboard.alert_timeline import sentence
from dashboard.pages.alerts import silenced_by
from dashboard.pages.silences_panel import matchers_text
from domain.states import EventKind
from storage.db import make_session_factory, session_scope
from storage.models import Alert, AlertEvent, Silence
from tests.dashboard.test_pages import app_env, page_script, seeded  # noqa: F401  (fixtures)
from tests.notify.conftest import add_alert


def _make(engine, now, **kw):
    args = {
        "matchers": {"product_code": ["P9"]},
        "starts_at": now,
        "ends_at": now + timedelta(hours=1),
        "actor": "李娜",
        "comment": "已知系统故障",
        "now": now,
    } | kw
    with session_scope(make_session_factory(engine)) as session:
        return actions.create_silence(session, **args).id


def test_a_silence_is_made_previewed_listed_and_ended_early(engine):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    with session_scope(make_session_factory(engine)) as session:
        caught = add_alert(session, now, key={"product_code": "P9"}).id
        add_alert(session, now, key={"product_code": "P1"}, fingerprint="other")
    preview = queries.silence_preview(engine, {"product_code": ("P9",), "region": ()})
    assert list(preview["id"]) == [caught]
    silence_id = _make(engine, now)
    listed = queries.silences(engine, now + timedelta(minutes=1))
    assert list(listed["status"]) == ["active"] and listed["created_by"][0] == "李娜"
    until = queries.silenced_until(engine, caught, now + timedelta(minutes=1))
    assert until is not None and until[0] == now + timedelta(hours=1) and until[2] == "已知系统故障"
    with session_scope(make_session_factory(engine)) as session:
        actions.end_silence(session, silence_id, "王芳", now + timedelta(minutes=10))
    assert queries.silenced_until(engine, caught, now + timedelta(minutes=11)) is None
    ended = queries.silences(engine, now + timedelta(minutes=11))
    assert list(ended["status"]) == ["ended"] and "王芳 ended it early" in ended["comment"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matchers": {}}, "at least one matcher"),
        ({"matchers": {"colour": ["red"]}}, "unknown label"),
        ({"comment": "  "}, "say why"),
        ({"ends_at": datetime(2026, 12, 1, 11, tzinfo=UTC)}, "end after it starts"),
        ({"ends_at": datetime(2026, 12, 9, 12, tzinfo=UTC)}, "at most 7 days"),
    ],
)
def test_a_bad_silence_is_refused_in_words(sqlite_engine, change, message):
    with pytest.raises(actions.ActionError, match=message):
        _make(sqlite_engine, datetime(2026, 12, 1, 12, tzinfo=UTC), **change)
    with Session(sqlite_engine) as session:
        assert session.scalars(select(Silence)).all() == []


def test_matchers_read_as_words():
    text = matchers_text({"region": ["广东", "浙江"], "channel": "hotline"}, "zh")
    assert text == "地区 = 广东 或 浙江 · 渠道 = 热线"
    assert matchers_text({"channel": "hotline"}, "en") == "Channel = Hotline"


def test_the_console_makes_and_ends_a_silence_and_the_alert_says_so(seeded):  # noqa: F811
    with Session(seeded) as session:
        alert = session.scalars(select(Alert).order_by(Alert.id)).first()
        assert alert is not None
        product = alert.key["product_code"]
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.session_state["operator"] = "李娜"
    at.query_params["alert"] = str(alert.id)
    at.run()
    at.multiselect(key="silence_m_product_code").set_value([product]).run()
    assert any("将静默" in c.value and f"#{alert.id}" in c.value for c in at.caption)
    at.text_input(key="silence_new_reason").input("理赔系统故障，已通知IT").run()
    at.button(key="silence_create").click().run()
    assert not at.exception and not at.error
    assert any("已静默至" in w.value and "李娜" in w.value for w in at.warning)
    with Session(seeded) as session:
        made = session.scalars(select(Silence)).one()
    assert made.matchers == {"product_code": product} and made.created_by == "李娜"
    at.button(key="silence_end").click().run()
    assert not [w for w in at.warning if "已静默至" in w.value]


def test_silencing_a_situations_lead_silences_its_alerts_with_the_same_silence(sqlite_engine):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    later = now + timedelta(minutes=5)
    with session_scope(make_session_factory(sqlite_engine)) as session:
        lead = add_alert(session, now, key={"product_code": "P9"}, fingerprint="lead")
        member = add_alert(
            session, now, rule="product-region", key={"product_code": "P9", "region": "广东"},
            fingerprint="member", parent_alert_id=lead.id,
        )  # fmt: skip
        other = add_alert(session, now, key={"product_code": "P1"}, fingerprint="other")
        lead_id, member_id, other_id = lead.id, member.id, other.id
    with session_scope(make_session_factory(sqlite_engine)) as session:
        actions.silence_alert(session, lead_id, "李娜", now, 60, "理赔系统故障")
    with Session(sqlite_engine) as session:
        silence = session.scalars(select(Silence)).one()  # one silence for the situation
        assert silence.matchers == {"rule": "product-threshold", "product_code": "P9"}
        flags = {a.id: a.silenced for a in session.scalars(select(Alert))}
        assert flags == {lead_id: True, member_id: True, other_id: False}
        trail = session.scalars(
            select(AlertEvent).where(AlertEvent.kind == EventKind.SILENCED.value)
        ).all()
        assert {(e.alert_id, e.actor) for e in trail} == {(lead_id, "李娜"), (member_id, "李娜")}
        said = next(e.message for e in trail if e.alert_id == member_id)
        assert f"#{lead_id}" in said and said.endswith("理赔系统故障")
        held = Silences(active_silences(session, later))
        lead, member, other = (session.get_one(Alert, i) for i in (lead_id, member_id, other_id))
        assert held.reason(member, later) is not None  # not paged
        assert held.reason(other, later) is None
        lead.state = "resolved"  # the lead ends first: its members stay quiet
        assert held.reason(member, later) is not None
    until = queries.silenced_until(sqlite_engine, member_id, later)
    assert until is not None and until[0] == now + timedelta(minutes=60)
    assert list(queries.silence_preview(sqlite_engine, {"product_code": ["P9"]})["id"]) == [
        lead_id, member_id,
    ]  # fmt: skip
    with session_scope(make_session_factory(sqlite_engine)) as session:
        actions.end_silence(session, silence.id, "王芳", later)  # ended: for all of them
    assert queries.silenced_until(sqlite_engine, member_id, later) is None


def test_a_members_silence_reads_in_english_with_the_reason_as_written():
    message = "60 min（告警 #57 所在情况）: 理赔系统故障"
    assert sentence("silenced", "李娜", message, "en") == (
        "李娜 silenced it (60 min, with alert #57's situation: 理赔系统故障)"
    )
    assert sentence("silenced", "李娜", message, "zh") == f"李娜 静默（{message}）"


def test_the_silence_banner_names_who_and_why_without_a_dangling_colon():
    assert silenced_by("王值班", "理赔系统故障\n第二行", "zh") == "王值班：理赔系统故障"
    assert silenced_by("王值班", "", "zh") == "王值班"  # not "王值班："
    assert silenced_by("Wang", "  ", "en") == "Wang"
    assert silenced_by("Wang", "IT outage", "en") == "Wang: IT outage"
