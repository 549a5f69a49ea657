"""Each page's key elements and actions, through Streamlit's AppTest against a real SQLite file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from alerts.notify.ack_links import sign_ack_token
from config.rules import AccountabilityConfig
from config.settings import get_settings
from dashboard.auth import hash_password
from dashboard.monthly import Cycle, cycle_of, previous_cycle
from dashboard.monthly_report import freeze_monthly_report
from dashboard.settings import dashboard_settings
from dashboard.timeutil import local_midnight
from domain.calendar import HolidayCalendar
from storage.db import make_session_factory, session_scope
from storage.ingest import Rejected, quarantine
from storage.models import (
    Alert,
    AlertEvent,
    ComplaintCount,
    Silence,
    SourceState,
    WorkerHeartbeat,
)
from tests.dashboard.seed import complaint, ingest, seed_burst

SHANGHAI = ZoneInfo("Asia/Shanghai")

XSS = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"


def page_script(name: str) -> str:
    return f"from dashboard.pages import {name}\n{name}.render()\n"


@pytest.fixture
def app_env(sqlite_engine, monkeypatch, tmp_path):
    """Point the dashboard at the test database; sign-in off unless a test turns it on."""
    monkeypatch.setenv(
        "RADAR_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("RADAR_AUTH", "off")
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    yield sqlite_engine
    get_settings.cache_clear()
    dashboard_settings.cache_clear()


@pytest.fixture
def seeded(app_env):
    """Complaints over the last hours (one with a script in its text) and one firing alert."""
    now = datetime.now(UTC)
    rows = [
        complaint(i, now - timedelta(minutes=13 * i + 1), ["hotline", "web", "social"][i % 3])
        for i in range(40)
    ]
    rows.append(complaint(99, now - timedelta(minutes=2), "app", text=XSS))
    ingest(app_env, rows)
    seed_burst(app_env, now)
    return app_env


def _today_total(engine) -> int:
    now = datetime.now(UTC)
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.sum(ComplaintCount.count)).where(
                    ComplaintCount.bucket_start >= local_midnight(now, SHANGHAI)
                )
            )
            or 0
        )


def _alert(engine) -> Alert:
    with Session(engine) as session:
        latest = session.scalars(select(Alert).order_by(Alert.id.desc())).first()
        assert latest is not None, "no alert stored"
        return latest


def test_wall_shows_database_numbers_alerts_and_stale_sources(seeded):
    with session_scope(make_session_factory(seeded)) as session:
        session.add(
            SourceState(
                name="hotline-db",
                kind="sql",
                last_success_at=datetime.now(UTC) - timedelta(hours=2),
                last_error="connection refused",
            )
        )
    at = AppTest.from_string(page_script("wall"), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["今日投诉"] == f"{_today_total(seeded):,}"
    assert metrics["活动告警"] == "2"  # the burst product and the steady one above threshold
    assert metrics["当前值班"] in ("张伟", "李娜")
    errors = " ".join(e.value for e in at.error)
    assert "hotline-db（🔴 中断）" in errors and "后台任务无心跳" in errors


def test_wall_in_english(seeded):
    at = AppTest.from_string(page_script("wall"), default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert "Complaints today" in [m.label for m in at.metric]
    active = next(m for m in at.metric if m.label == "Active alerts")
    assert active.proto.delta == "2 unacknowledged"
    footer = next(c.value for c in at.caption if c.value.startswith("Updated"))
    assert footer.endswith("(Asia/Shanghai)") and "北京时间" not in footer, footer


def test_console_in_english(seeded):
    from dashboard.i18n import severity_name
    from domain.severity import SEVERITY_LABELS

    assert {k: severity_name(k) for k in SEVERITY_LABELS} == SEVERITY_LABELS  # one naming
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Severity" in d.value.columns)
    assert {"Severity", "Alert", "State", "Started", "Handled by"} <= set(table.columns)
    assert set(table["Severity"]) <= {severity_name(k, "en") for k in SEVERITY_LABELS}
    assert set(table["State"]) == {"Firing"}
    assert all(title.startswith("Product ") for title in table["Alert"]), list(table["Alert"])
    assert "Product 守护百万医疗险 (HLT-007): " in " ".join(table["Alert"]), list(table["Alert"])


def test_console_actions_are_recorded_with_who_and_when(seeded):
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.session_state["operator"] = "王值班"
    at.run()
    assert not at.exception
    alert_id = _alert(seeded).id
    at.selectbox(key="alert_select").set_value(alert_id).run()
    at.button(key="act_ack").click().run()
    alert = _alert(seeded)
    assert alert.state == "acknowledged" and alert.acknowledged_by == "王值班"
    at.text_area(key="note_text").input("已通知理赔部")
    next(b for b in at.button if b.label == "添加备注").click().run()
    assert not at.error
    at.selectbox(key="silence_min").set_value(60).run()
    at.button(key="act_silence").click().run()
    # the silence shows at once, not from the next minute on
    assert any(w.value.startswith("已静默至") for w in at.warning), [w.value for w in at.warning]
    at.button(key="act_resolve").click().run()
    # what happens if the surge goes on is said beside the banner, not only on hover
    assert any("重新打开" in c.value for c in at.caption), [c.value for c in at.caption]
    with Session(seeded) as session:
        events = session.execute(
            select(AlertEvent.kind, AlertEvent.actor, AlertEvent.message)
            .where(AlertEvent.alert_id == alert_id, AlertEvent.actor == "王值班")
            .order_by(AlertEvent.id)
        ).all()
        silences = session.scalars(select(Silence)).all()
    assert [e.kind for e in events] == ["acknowledged", "note", "silenced", "resolved"]
    assert events[1].message == "已通知理赔部"
    assert len(silences) == 1 and silences[0].created_by == "王值班"
    assert _alert(seeded).state == "resolved"


def test_complaint_text_is_shown_as_text_never_as_html(seeded):
    with session_scope(make_session_factory(seeded)) as session:
        alerts = session.scalars(select(Alert)).all()
        alert_id = next(a.id for a in alerts if a.key.get("product_code") == "CAR-001")
    at = AppTest.from_string(page_script("alerts"), default_timeout=60).run()
    at.selectbox(key="alert_select").set_value(alert_id).run()
    # the product by its name, as the ledger and the notifications say it
    assert at.subheader[0].value.startswith(f"#{alert_id} 产品 安心交强险（CAR-001）："), [
        h.value for h in at.subheader
    ]
    samples = next(d.value for d in at.dataframe if "内容" in d.value.columns)
    assert XSS in list(samples["内容"])  # verbatim, as data
    # people's words for the columns and the channels, not field names and codes
    assert {"编号", "受理时间", "渠道", "产品", "地区", "类别"} <= set(samples.columns)
    assert not set(samples["渠道"]) & {"hotline", "web", "app", "social", "counter"}
    rendered = [m.value for m in at.markdown] + [h.proto.body for h in at.get("html")]
    assert not any("<script" in r or "onerror" in r for r in rendered)


def test_ack_link_acknowledges_once_and_rejects_forgeries(seeded, monkeypatch):
    monkeypatch.setenv("RADAR_ACK_SECRET", "k3Q9vX2mL8pR4tW7zY1b")  # links need a real key
    alert_id = _alert(seeded).id
    token = sign_ack_token(alert_id, "li-na", datetime.now(UTC))
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.query_params["ack"] = token
    at.run()
    assert any("已通过链接确认告警" in s.value and "（李娜）" in s.value for s in at.success)
    alert = _alert(seeded)
    assert alert.state == "acknowledged" and alert.acknowledged_by == "li-na"
    again = AppTest.from_string(page_script("alerts"), default_timeout=60)
    again.query_params["ack"] = token
    again.run()
    assert any("告警无法确认" in w.value for w in again.warning)
    forged = AppTest.from_string(page_script("alerts"), default_timeout=60)
    forged.query_params["ack"] = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged.run()
    assert any("无效或已过期" in e.value for e in forged.error)


def _users(tmp_path) -> str:
    path = tmp_path / "users.yaml"
    path.write_text(
        "users:\n"
        f"  - {{username: ceo, name: 总经理, role: executive, password_hash: '{hash_password('pw1')}'}}\n"
        f"  - {{username: oncall, name: 值班员, role: on_call, password_hash: '{hash_password('pw2')}'}}\n",
        encoding="utf-8",
    )
    return str(path)


def test_sign_in_roles_executive_sees_no_texts_and_cannot_act(seeded, monkeypatch, tmp_path):
    monkeypatch.setenv("RADAR_AUTH", "password")
    monkeypatch.setenv("RADAR_USERS_FILE", _users(tmp_path))
    dashboard_settings.cache_clear()
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=60).run()
    assert [b.label for b in at.button] == ["登录"] or at.text_input
    at.text_input[0].input("ceo")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("用户名或密码错误" in e.value for e in at.error)
    at.text_input[1].input("pw1")
    at.button[0].click().run()
    assert not at.exception
    assert "今日投诉" in [m.label for m in at.metric]  # executives land on the wall screen

    exec_console = AppTest.from_string(page_script("alerts"), default_timeout=60)
    from dashboard.auth import User

    exec_console.session_state["user"] = User("ceo", "总经理", "executive")
    exec_console.session_state["signed_in_at"] = datetime.now(UTC)
    exec_console.run()
    assert any("只能查看" in i.value for i in exec_console.info)
    assert any("不显示投诉原文" in i.value for i in exec_console.info)
    assert not [b for b in exec_console.button if b.key == "act_ack"]

    oncall = AppTest.from_string(page_script("alerts"), default_timeout=60)
    oncall.session_state["user"] = User("oncall", "值班员", "on_call")
    oncall.session_state["signed_in_at"] = datetime.now(UTC)
    oncall.run()
    oncall.button(key="act_ack").click().run()
    with Session(seeded) as session:
        assert session.scalar(select(func.count()).where(Alert.acknowledged_by == "oncall")) == 1


def test_password_session_expires_after_a_shift(seeded, monkeypatch, tmp_path):
    from dashboard.auth import User, session_expired

    monkeypatch.setenv("RADAR_AUTH", "password")
    monkeypatch.setenv("RADAR_USERS_FILE", _users(tmp_path))
    monkeypatch.setenv("RADAR_SESSION_MINUTES", "480")
    dashboard_settings.cache_clear()
    stale = AppTest.from_string(page_script("alerts"), default_timeout=60)
    stale.session_state["user"] = User("oncall", "值班员", "on_call")
    stale.session_state["signed_in_at"] = datetime.now(UTC) - timedelta(hours=9)
    stale.run()
    assert not [b for b in stale.button if b.key == "act_ack"], "an expired session cannot act"
    assert "user" not in stale.session_state
    now = datetime.now(UTC)
    assert session_expired(None, now, 480)
    assert not session_expired(now - timedelta(minutes=479), now, 480)
    assert session_expired(now - timedelta(minutes=480), now, 480)


def test_weekly_page_offers_excel(seeded):
    at = AppTest.from_string(page_script("weekly"), default_timeout=60).run()
    assert not at.exception
    assert "投诉总量" in [m.label for m in at.metric]
    assert at.get("download_button")


def test_weekly_page_in_english(seeded):
    at = AppTest.from_string(page_script("weekly"), default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert "No data for the same week last year" in [c.value for c in at.caption]
    rows = at.table[0].value.iloc[:, 0].tolist()
    assert rows[:2] == ["Total complaints", "Repeat complaints"]


def test_ledger_highlights_overdue(app_env):
    now = datetime.now(UTC)
    ingest(
        app_env,
        [
            complaint(1, now - timedelta(days=20)),  # 15 calendar days have passed: overdue
            complaint(2, now - timedelta(days=14, hours=1)),  # due within 48 hours
            complaint(3, now - timedelta(days=1)),
        ],
    )
    at = AppTest.from_string(page_script("ledger"), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["已超期"] == "1" and metrics["48小时内到期"] == "1" and metrics["投诉总量"] == "3"
    )
    assert at.get("download_button")


def test_ledger_says_when_nothing_is_urgent(app_env):
    """The overdue / due-soon switch on, nothing urgent: a sentence, not an empty table; the
    export button stays, and says it holds every complaint of the dates."""
    now = datetime.now(UTC)
    ingest(app_env, [complaint(1, now - timedelta(days=1)), complaint(2, now)])
    at = AppTest.from_string(page_script("ledger"), default_timeout=60).run()
    assert not at.exception and len(at.dataframe) == 1
    at.toggle(key="ledger_urgent").set_value(True).run()
    assert not at.exception
    assert not at.dataframe
    assert [i.value for i in at.info] == ["没有已超期或 48 小时内到期的投诉"]
    (button,) = at.get("download_button")
    assert "不受“已超期 / 48小时内到期”开关影响" in button.proto.help


def test_ledger_figures_count_every_complaint_when_the_table_is_capped(app_env, monkeypatch):
    from dashboard.pages import ledger

    monkeypatch.setattr(ledger, "TABLE_ROWS", 1)
    now = datetime.now(UTC)
    ingest(
        app_env,
        [
            complaint(1, now - timedelta(days=20)),  # overdue: the one row the table shows
            complaint(2, now - timedelta(days=14, hours=1)),  # due within 48 hours
            complaint(3, now - timedelta(days=1)),
        ],
    )
    at = AppTest.from_string(page_script("ledger"), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["已超期"], metrics["48小时内到期"], metrics["投诉总量"]) == ("1", "1", "3")
    assert any("共 3 条" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert list(table["ID"]) == ["c1"] and list(table["期限状态"]) == ["🔴 已超期"]


def test_sources_page_shows_failures_and_quarantine(app_env):
    now = datetime.now(UTC)
    with session_scope(make_session_factory(app_env)) as session:
        session.add(
            SourceState(
                name="web-form",
                kind="http",
                last_success_at=now,
                consecutive_failures=3,
                last_error="HTTP 503",
            )
        )
        session.add(
            SourceState(
                name="drop-folder",
                kind="csv_folder",
                last_success_at=now,
                consecutive_failures=0,
                note="1 个文件等待导入 / file(s) waiting: a.csv：文件刚修改",
            )
        )
        quarantine(session, "web-form", [Rejected("w-9", "受理时间无法解析", "{}")], now)
        for name, beat in (("w-now", now), ("w-old", now - timedelta(hours=3))):
            session.add(
                WorkerHeartbeat(name=name, host="vm", pid=1, started_at=beat, beat_at=beat, info={})
            )
    at = AppTest.from_string(page_script("sources"), default_timeout=60).run()
    assert not at.exception
    assert any("web-form" in e.value and "HTTP 503" in e.value for e in at.error)
    # The note is Markdown-escaped (dashboard.inert): what the reader sees is the note itself.
    assert [re.sub(r"\\(.)", r"\1", i.value) for i in at.info] == [
        "drop-folder：1 个文件等待导入 / file(s) waiting: a.csv：文件刚修改"
    ]
    reasons = next(list(d.value["隔离原因"]) for d in at.dataframe if "隔离原因" in d.value.columns)
    assert reasons == ["受理时间无法解析"]
    sources = next(d.value for d in at.dataframe if "连续失败" in d.value.columns)
    assert {"drop-folder", "web-form"} <= set(sources["名称"])
    assert dict(zip(sources["名称"], sources["状态"], strict=True))["web-form"] == "🟠 失败重试中"
    beats = next(d.value for d in at.dataframe if "最近心跳" in d.value.columns)
    assert dict(zip(beats["名称"], beats["状态"], strict=True)) == {
        "w-now": "运行中",
        "w-old": "已停止",
    }


def test_settings_page_shows_config_check(app_env):
    at = AppTest.from_string(page_script("settings_view"), default_timeout=60).run()
    assert not at.exception
    assert any("配置检查通过" in s.value for s in at.success) or at.error


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["设置项", "条件消失多久后解除（分钟）", "自适应激增", "升级条件", "所有告警"]),
        ("en", ["Setting", "Resolve after quiet (min)", "Adaptive surge", "Escalation steps"]),
    ],
)
def test_settings_page_shows_tables_in_words_never_json_or_secrets(
    app_env, monkeypatch, lang, words
):
    """Configuration as localised tables; a secret's variable is named, its value never shown."""
    secret = "s3cret-smtp-password-value"
    monkeypatch.setenv("RADAR_SMTP_PASSWORD", secret)
    at = AppTest.from_string(page_script("settings_view"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    assert len(at.get("json")) == 0
    text = "\n".join(table.value.to_string() for table in at.table)
    for word in words:
        assert word in text, word
    assert "resolve_after_minutes" not in text and "product_code" not in text
    assert "RADAR_SMTP_PASSWORD" in text and ("已设置" if lang == "zh" else "(set)") in text
    assert secret not in text


def test_console_shows_the_alerts_of_one_situation(seeded):
    with session_scope(make_session_factory(seeded)) as session:
        lead = session.scalars(select(Alert).order_by(Alert.id)).first()
        assert lead is not None
        child = Alert(
            fingerprint="child-fp", rule="product-category-surge", rule_kind="surge",
            key={**lead.key, "category": "理赔"}, title="[点此](http://evil.example) 类别激增",
            severity=3, state="firing", started_at=lead.started_at, fired_at=lead.started_at,
            last_seen_at=lead.started_at, count=6, expected=0.4, evidence={},
            parent_alert_id=lead.id,
        )  # fmt: skip
        session.add(child)
        session.flush()
        lead_id, child_id = lead.id, child.id
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.query_params["alert"] = str(child_id)
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert f"与 #{lead_id} 属同一情况" in captions
    # the situation's table comes with the alert, the list of every alert after it
    situation = next(d.value for d in at.dataframe if "ID" in d.value.columns)
    assert list(situation["ID"]) == [lead_id, child_id]  # the lead first
    assert "[点此](http://evil.example)" in " ".join(map(str, situation["告警"]))  # as text


@pytest.mark.parametrize("mode", ["demo-key", "demo-mode", "real-key"])
def test_ack_links_signed_with_the_public_demo_key_are_refused_outside_the_demo(
    seeded, monkeypatch, mode
):
    """Issue 19 item 4: with RADAR_ACK_SECRET unset anyone can sign a valid link."""
    monkeypatch.delenv("RADAR_ACK_SECRET", raising=False)
    monkeypatch.delenv("RADAR_DEMO", raising=False)
    if mode == "demo-mode":
        monkeypatch.setenv("RADAR_DEMO", "1")
    if mode == "real-key":
        monkeypatch.setenv("RADAR_ACK_SECRET", "k3Q9vX2mL8pR4tW7zY1b")
    token = sign_ack_token(_alert(seeded).id, "li-na", datetime.now(UTC))
    at = AppTest.from_string(page_script("alerts"), default_timeout=60)
    at.query_params["ack"] = token
    at.run()
    acknowledged = _alert(seeded).state == "acknowledged"
    assert acknowledged is (mode != "demo-key")
    if mode == "demo-key":
        assert any("一键确认链接已停用" in e.value for e in at.error)


def seed_last_closed_cycle(engine) -> Cycle:
    """Three complaints in the last closed accountability cycle (21st to 20th); that cycle."""
    now = datetime.now(UTC)
    closed = previous_cycle(cycle_of(now.astimezone(SHANGHAI).date(), 21), 21)
    received = datetime(closed.start.year, closed.start.month, closed.start.day, 10,
                        tzinfo=SHANGHAI)  # fmt: skip
    ingest(engine, [complaint(i, received + timedelta(days=i), branch="广州分公司")
                    for i in range(3)])  # fmt: skip
    return closed


def test_monthly_page_says_what_a_closed_cycles_figures_are_as_of(app_env):
    now = datetime.now(UTC)
    closed = seed_last_closed_cycle(app_env)

    def captions() -> str:
        st.cache_data.clear()  # the page keeps a cycle's report 5 minutes
        at = AppTest.from_string(page_script("monthly"), default_timeout=60).run()
        assert not at.exception and closed.name in str(at.selectbox[0].value)
        return " ".join(c.value for c in at.caption)

    assert "（实时统计）" in captions()
    freeze_monthly_report(app_env, closed, AccountabilityConfig(), now, calendar=HolidayCalendar())
    text = captions()
    assert "快照" in text and now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in text
    assert "逾期数截至" in text


def test_monthly_page_shows_the_open_cycle_from_the_workers_recent_snapshot(app_env):
    now = datetime.now(UTC)
    ingest(app_env, [complaint(1, now, branch="广州分公司")])  # today's: in the open cycle
    cycle = cycle_of(now.astimezone(SHANGHAI).date(), 21)
    freeze_monthly_report(app_env, cycle, AccountabilityConfig(), now, calendar=HolidayCalendar())
    st.cache_data.clear()
    at = AppTest.from_string(page_script("monthly"), default_timeout=60).run()
    assert not at.exception and at.selectbox[0].value == cycle.name
    text = " ".join(c.value for c in at.caption)
    assert "后台每 5 分钟重算" in text and "快照" not in text
    assert now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in text


def test_monthly_page_keeps_the_picked_cycle_across_a_language_switch(app_env):
    closed = seed_last_closed_cycle(app_env)
    st.cache_data.clear()
    at = AppTest.from_string(page_script("monthly"), default_timeout=60).run()
    assert at.selectbox[0].value == closed.name  # opens on the cycle with complaints
    newest = at.selectbox[0].options[0]
    assert newest != closed.name
    at.selectbox[0].select(newest).run()  # the open cycle: none yet, last cycle's to compare
    assert not at.exception and not at.error
    at.session_state["lang"] = "en"
    at.run()
    assert at.selectbox[0].label == "Cycle" and at.selectbox[0].value == newest
    assert not at.exception and not at.error
