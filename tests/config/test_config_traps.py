"""check-config warns about configuration that validates but fails people: links to localhost,
people an enabled robot cannot @ (the real command in a subprocess, on a real config folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml

from config.settings import PROJECT_ROOT

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
