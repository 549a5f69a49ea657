"""The command line: who-is-on-call and test-notify, run as the operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

from config.settings import PROJECT_ROOT


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADAR_")}
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, env=env,
    )  # fmt: skip


def test_who_is_on_call_at_half_past_midnight_on_chuyi_2027():
    result = manage("who-is-on-call", "--at", "2027-02-06T00:30")
    assert result.returncode == 0, result.stderr
    assert "值班人：李娜（li-na）" in result.stdout and "值班经理：刘洋" in result.stdout


def test_test_notify_on_the_log_channel_needs_no_environment():
    result = manage("test-notify", "log")
    assert result.returncode == 0, result.stderr
    assert "测试消息已通过 log 发出" in result.stdout and "【测试】" in result.stderr


def test_test_notify_names_the_missing_variable_and_unknown_channels():
    missing = manage("test-notify", "dingtalk-duty")
    assert missing.returncode == 1 and "RADAR_DINGTALK_URL" in missing.stderr
    unknown = manage("test-notify", "pigeon")
    assert unknown.returncode == 1 and "unknown channel" in unknown.stderr
