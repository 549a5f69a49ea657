"""Shipped or weak signing keys are never kept silently (issue 19 item 4).

``check-config`` fails on them outside the demo, the worker says so on every start and refuses
with ``RADAR_ENV=production``, and 配置 shows a red banner.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from config.secrets import DEMO_ACK_SECRET, DEMO_PII_SALT, weak_secrets
from config.settings import PROJECT_ROOT, get_settings
from dashboard.settings import dashboard_settings
from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import radar_config

STRONG = {"RADAR_ACK_SECRET": "k3Q9vX2mL8pR4tW7zY1b", "RADAR_PII_SALT": "s8Hn2Jd5Kf9Lq3Wc7Xv0"}


def _env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "RADAR_ACK_SECRET": "",
        "RADAR_PII_SALT": "",
        "RADAR_DEMO": "",
        "RADAR_ENV": "",
    }
    env.update(overrides)  # empty counts as unset, also over the worker helper's os.environ
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "check-config"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
    )


def test_weak_secrets_names_unset_demo_and_short_keys():
    assert [w.name for w in weak_secrets({})] == ["RADAR_ACK_SECRET", "RADAR_PII_SALT"]
    demo = {"RADAR_ACK_SECRET": DEMO_ACK_SECRET, "RADAR_PII_SALT": DEMO_PII_SALT}
    assert len(weak_secrets(demo)) == 2
    assert [w.name for w in weak_secrets({**STRONG, "RADAR_PII_SALT": "short"})] == [
        "RADAR_PII_SALT"
    ]
    assert weak_secrets(STRONG) == []


def test_check_config_fails_when_a_secret_is_the_shipped_default():
    result = _check(_env(RADAR_ACK_SECRET=DEMO_ACK_SECRET))
    assert result.returncode == 1, result.stdout
    assert "ERROR secret RADAR_ACK_SECRET" in result.stderr
    assert "ERROR secret RADAR_PII_SALT" in result.stderr


def test_check_config_passes_with_real_secrets_and_only_warns_in_the_demo():
    assert _check(_env(**STRONG)).returncode == 0
    demo = _check(_env(RADAR_DEMO="1"))
    assert demo.returncode == 0, demo.stderr
    assert "WARN secret RADAR_ACK_SECRET" in demo.stderr


def test_worker_says_so_on_start_and_refuses_in_production(tmp_path):
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    config = radar_config(tmp_path / "config", [])
    loud = WorkerProcess(url, config, tmp_path / "loud.log", env=_env())
    try:
        loud.start()
        wait_for(lambda: "starting with" in loud.log_text(), 60, "the worker to start")
    finally:
        loud.stop()
    assert "ERROR radar.secrets: WEAK SECRET RADAR_ACK_SECRET" in loud.log_text()
    assert "WEAK SECRET RADAR_PII_SALT" in loud.log_text()
    refused = WorkerProcess(url, config, tmp_path / "prod.log", env=_env(RADAR_ENV="production"))
    refused.start()
    assert refused.popen.wait(timeout=60) == 1
    assert "refusing to start" in refused.log_text()
    assert "starting with" not in refused.log_text()


@pytest.mark.parametrize("strong", [False, True])
def test_settings_page_shows_a_red_banner_for_weak_secrets(sqlite_engine, monkeypatch, strong):
    monkeypatch.setenv(
        "RADAR_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("RADAR_AUTH", "off")
    for name in ("RADAR_ACK_SECRET", "RADAR_PII_SALT"):
        monkeypatch.delenv(name, raising=False)
        if strong:
            monkeypatch.setenv(name, STRONG[name])
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    script = "from dashboard.pages import settings_view\nsettings_view.render()\n"
    at = AppTest.from_string(script, default_timeout=60).run()
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    assert not at.exception
    banner = [e.value for e in at.error if "密钥不安全" in e.value]
    assert bool(banner) is not strong
    if banner:
        assert "RADAR_ACK_SECRET" in banner[0] and "RADAR_PII_SALT" in banner[0]
