"""Secrets (robot tokens, signing keys, SMTP and database passwords) never reach logs, errors or tables.

Every secret below is set only in the worker's environment; the channels and sources using it
fail for real (HTTP 500, refused connections), which is where secrets usually leak: in error
messages, retry logs and HTTP client request logs.
"""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import PROJECT_ROOT
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Notification
from tests.reliability.helpers import WebhookReceiver, WorkerProcess, free_port, wait_for
from tests.reliability.scenario import radar_config, source_state, stored_state, threshold_rule
from tests.reliability.test_privacy import scan_database

HOOK_TOKEN = "hooktoken7Q2xZ"
DING_TOKEN = "dingaccess9Kp4"
DING_SECRET = "SECsigningkey5Hq1"
SMTP_PASSWORD = "smtpPassw0rd3Rt"
DB_PASSWORD = "dbPassw0rd8Yu"
SECRETS = [HOOK_TOKEN, DING_TOKEN, DING_SECRET, SMTP_PASSWORD, DB_PASSWORD]


def test_failing_channels_and_sources_never_reveal_secrets(tmp_path):
    receiver = WebhookReceiver(status=500)
    refused = free_port()
    env = {
        "RADAR_T_HOOK": f"{receiver.base}/hook?key={HOOK_TOKEN}",
        "RADAR_T_DING": f"{receiver.base}/robot/send?access_token={DING_TOKEN}",
        "RADAR_T_DING_SECRET": DING_SECRET,
        "RADAR_T_SMTP": SMTP_PASSWORD,
        "RADAR_T_SQL": f"postgresql+psycopg://radar:{DB_PASSWORD}@127.0.0.1:{refused}/crm",
    }
    channels = [
        {"name": "hook", "kind": "webhook", "url_env": "RADAR_T_HOOK", "retries": 1,
         "fallback": "mail", "fallback_after": 1},
        {"name": "ding", "kind": "dingtalk", "url_env": "RADAR_T_DING",
         "secret_env": "RADAR_T_DING_SECRET", "retries": 2, "retry_wait_seconds": 0},
        {"name": "mail", "kind": "email", "host": "127.0.0.1", "port": refused,
         "security": "none", "username": "radar", "password_env": "RADAR_T_SMTP",
         "from_addr": "radar@example.com", "to": ["duty@example.com"], "timeout_seconds": 3},
    ]  # fmt: skip
    sources = [
        {"name": "sim", "kind": "simulator", "backfill_hours": 1, "interval_seconds": 60},
        {"name": "crm", "kind": "sql", "url_env": "RADAR_T_SQL", "interval_seconds": 5,
         "query": "select * from complaints", "cursor_column": "updated_at", "id_column": "id"},
    ]  # fmt: skip
    config_dir = radar_config(
        tmp_path / "config", sources, rules=[threshold_rule(3)], channels=channels,
        default_channel="hook",
    )  # fmt: skip
    (config_dir / "routes.yaml").write_text(
        "group_wait_seconds: 0\nreceivers: [{name: duty, channels: [hook, ding]}]\n"
        "route: {receiver: duty}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    worker = WorkerProcess(url, config_dir, tmp_path / "worker.log", env=env)
    try:
        worker.start()

        def failed_everywhere() -> bool:
            crm = source_state(engine, "crm")
            with Session(engine) as session:
                rows = session.scalars(select(Notification)).all()
            errors = {r.channel for r in rows if r.last_error}
            return bool(crm and crm.last_error) and {"hook", "ding", "mail"} <= errors

        wait_for(failed_everywhere, 90, "every channel and the SQL source to fail")
        assert worker.stop() == 0, worker.log_text()[-3000:]
    finally:
        if worker.alive:
            worker.kill()
        receiver.close()

    assert receiver.receipts(), "the robots were really called"
    log = worker.log_text()
    assert "crm" in log and "hook" in log, "the failures are logged, by name"
    assert [s for s in SECRETS if s in log] == []
    assert scan_database(engine, SECRETS) == []
    with Session(engine) as session:
        notifications = session.scalars(select(Notification).where(Notification.kind == "alert"))
        errors = [r.last_error for r in notifications]  # not the weekly report, maybe unsent yet
    assert all(errors), "each failed notification says why"
    crm = stored_state(engine, "crm")
    assert crm.consecutive_failures >= 1 and "127.0.0.1" in crm.last_error + "crm"
    engine.dispose()


def test_database_password_not_printed_when_the_database_is_unreachable(tmp_path):
    port = free_port()
    config_dir = radar_config(tmp_path / "config", [{"name": "sim", "kind": "simulator"}])
    env = {
        "RADAR_DATABASE_URL": f"postgresql+psycopg://radar:{DB_PASSWORD}@127.0.0.1:{port}/radar",
        "RADAR_CONFIG_DIR": str(config_dir),
    }
    for command in (["migrate"], ["worker"]):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), *command],
            env={**__import__("os").environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=PROJECT_ROOT,
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert DB_PASSWORD not in output, output[-2000:]
        assert str(port) in output and "***" in output, output[-2000:]
        assert time.monotonic() - started < 100
