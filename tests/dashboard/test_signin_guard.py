"""Failed sign-ins are logged and throttled (issue 19, 'Also')."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from config.settings import get_settings
from dashboard.auth import hash_password
from dashboard.settings import dashboard_settings
from dashboard.signin_guard import THROTTLE, SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_of_a_name_lock_it_for_the_window_only():
    clock = Clock()
    guard = SignInThrottle(max_failures=5, max_address_failures=20, window_seconds=900, clock=clock)
    for _ in range(5):
        assert guard.wait_seconds("wang", "10.0.0.1") == 0
        guard.failed("wang", "10.0.0.1")
        clock.now += 10
    assert guard.wait_seconds("WANG", "10.0.0.9") == pytest.approx(900 - 50)
    assert guard.wait_seconds("li", "10.0.0.1") == 0  # the address is under its own limit
    clock.now += 900
    assert guard.wait_seconds("wang", "10.0.0.1") == 0


def test_twenty_failures_from_one_address_lock_the_address():
    clock = Clock()
    guard = SignInThrottle(clock=clock)
    for i in range(20):
        guard.failed(f"user{i}", "10.0.0.2")
    assert guard.wait_seconds("someone-else", "10.0.0.2") > 0
    assert guard.wait_seconds("someone-else", "10.0.0.3") == 0


@pytest.fixture
def login_app(sqlite_engine, monkeypatch, tmp_path):
    users = tmp_path / "users.yaml"
    users.write_text(
        f"users:\n  - {{username: wang, name: 王经理, role: duty_manager, "
        f"password_hash: '{hash_password('right-pw')}'}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(
        "RADAR_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("RADAR_AUTH", "password")
    monkeypatch.setenv("RADAR_USERS_FILE", str(users))
    get_settings.cache_clear()
    dashboard_settings.cache_clear()
    THROTTLE.reset()
    yield
    THROTTLE.reset()
    get_settings.cache_clear()
    dashboard_settings.cache_clear()


def _try(username: str, password: str) -> AppTest:
    at = AppTest.from_string(
        "from dashboard.ui import login_page\nlogin_page()\n", default_timeout=60
    )
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_failed_sign_ins_are_logged_and_the_sixth_is_refused_unchecked(login_app, caplog):
    with caplog.at_level(logging.WARNING, logger="radar.signin"):
        for _ in range(5):
            at = _try("wang\nERROR forged", "guess")
            assert any("用户名或密码错误" in e.value for e in at.error)
        refused = _try("wang\nERROR forged", "guess")
        assert any("登录失败次数过多" in e.value for e in refused.error)
        for _ in range(5):
            _try("wang", "guess")
        right = _try("wang", "right-pw")  # even the right password, unchecked
    assert any("登录失败次数过多" in e.value for e in right.error)
    assert "user" not in right.session_state
    failed = [r.getMessage() for r in caplog.records if "failed sign-in" in r.getMessage()]
    assert len(failed) == 10
    assert all("\n" not in m for m in failed) and "wang\\nERROR forged" in failed[0]
    assert any("refused" in r.getMessage() for r in caplog.records)
