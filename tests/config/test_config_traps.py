"""check-config warns about configuration that validates but fails people: links to localhost,
people an enabled robot cannot @ (the real command in a subprocess, on a real config folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import yaml

from config.settings import PROJECT_ROOT
from storage.db import make_engine, make_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Notification

DING = {"name": "ding", "kind": "dingtalk", "url_env": "T_TRAP_DING_URL"}
LARK = {"name": "lark", "kind": "feishu", "url_env": "T_TRAP_LARK_URL"}


def check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", folder)
    roster = yaml.safe_load((folder / "roster.yaml").read_text(encoding="utf-8"))
    roster["people"][0]["phone"] = ""
    (folder / "roster.yaml").write_text(yaml.safe_dump(roster, allow_unicode=True), "utf-8")
    channels = {"default_channel": "log", "channels": [{"name": "log", "kind": "log"}, DING, LARK]}
    (folder / "channels.yaml").write_text(yaml.safe_dump(channels), "utf-8")
    (folder / "routes.yaml").unlink(missing_ok=True)
    clean = {k: v for k, v in os.environ.items() if k != "RADAR_DASHBOARD_URL"}
    clean |= {"T_TRAP_DING_URL": "http://127.0.0.1:9/robot", "T_TRAP_LARK_URL": "http://x/"}
    # real signing keys: weak ones are an error of their own (tests/config/test_weak_secrets.py)
    clean |= {
        "RADAR_ACK_SECRET": "k3Q9vX2mL8pR4tW7zY1bN6",
        "RADAR_PII_SALT": "s8Fj2Lq9Wm4Zx7Rt3Vb5Nc",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check-config", "--config-dir", str(folder)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, env=clean | env,
    )  # fmt: skip


def test_check_config_warns_about_localhost_links_and_people_a_robot_cannot_reach(tmp_path):
    result = check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARN RADAR_DASHBOARD_URL 未设置或指向本机（http://localhost:8501）" in result.stderr
    roster = yaml.safe_load((PROJECT_ROOT / "config/roster.yaml").read_text(encoding="utf-8"))
    first = roster["people"][0]
    assert f"{first['name']}（{first['id']}）没有手机号，渠道 ding（dingtalk）" in result.stderr
    without_feishu = [p for p in roster["people"] if not p.get("feishu_id")]
    assert without_feishu and result.stderr.count("渠道 lark（feishu）") == len(without_feishu)


def test_a_public_dashboard_address_needs_no_warning(tmp_path):
    result = check(tmp_path, RADAR_DASHBOARD_URL="https://radar.example.com")
    assert result.returncode == 0 and "RADAR_DASHBOARD_URL" not in result.stderr


def test_a_channel_failing_in_the_outbox_is_named(tmp_path):
    """A wrong robot secret is valid configuration; the database's outbox shows it is broken."""
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC)
    with session_scope(make_session_factory(engine)) as session:
        session.add(
            Notification(
                idempotency_key="k1", alert_id=None, alert_state="", receiver="li-na",
                channel="ding", kind="message", status="failed", attempts=1,
                last_error="ding: errcode 310000 sign not match", created_at=now,
                next_attempt_at=now, message="周报",
            )
        )  # fmt: skip
    engine.dispose()
    result = check(tmp_path, RADAR_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "WARN channels.yaml: 渠道 ding 最近一次发送失败：ding: errcode 310000" in result.stderr
