"""Retention blanks old texts and payloads only; counts and complaint rows stay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.records import NormalizedComplaint
from storage.db import session_scope
from storage.ingest import Rejected, ingest_complaints, quarantine
from storage.models import Complaint, ComplaintCount, QuarantinedRecord
from storage.retention import apply_retention


def _complaint(i: int, at: datetime, text: str) -> NormalizedComplaint:
    return NormalizedComplaint(
        source="s", external_id=f"x{i}", received_at=at, collected_at=at, channel="web",
        product_code="P1", text=text,
    )  # fmt: skip


def test_old_texts_and_payloads_are_blanked_and_counts_kept(factory, clock):
    now = clock.now
    with session_scope(factory) as session:
        ingest_complaints(
            session,
            [
                _complaint(i, now - timedelta(days=d), f"投诉内容{i}")
                for i, d in enumerate((400, 31, 29, 1))
            ],
        )
        quarantine(session, "s", [Rejected("q1", "bad", "{旧}")], now - timedelta(days=40))
        quarantine(session, "s", [Rejected("q2", "bad", "{新}")], now - timedelta(days=2))
    result = apply_retention(factory, now, days=30, batch=1)  # batch=1: the loop must finish
    assert (result.texts_blanked, result.payloads_blanked) == (2, 1)
    with factory() as session:
        texts = dict(session.execute(select(Complaint.external_id, Complaint.text)).all())
        assert texts == {"x0": "", "x1": "", "x2": "投诉内容2", "x3": "投诉内容3"}
        payloads = dict(
            session.execute(select(QuarantinedRecord.external_id, QuarantinedRecord.payload)).all()
        )
        assert payloads == {"q1": "", "q2": "{新}"}
        assert session.scalar(select(func.sum(ComplaintCount.count))) == 4
    again = apply_retention(factory, now, days=30)
    assert (again.texts_blanked, again.payloads_blanked) == (0, 0)


def test_retention_shorter_than_detection_needs_is_refused(factory, clock):
    with pytest.raises(ValueError, match="minimum 7"):
        apply_retention(factory, clock.now, days=3)


def test_retention_command_uses_the_setting_and_refuses_short_windows(tmp_path):
    import os
    import subprocess
    import sys

    from config.settings import PROJECT_ROOT

    env = dict(os.environ, RADAR_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}")
    env.pop("RADAR_TEXT_RETENTION_DAYS", None)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "manage.py"), "retention", *args],
            env={**env, **extra}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert "retention is off" in run().stdout
    assert run(RADAR_TEXT_RETENTION_DAYS="30").stdout.startswith("texts blanked: 0")
    refused = run("--days", "3")
    assert refused.returncode == 2 and "minimum 7" in refused.stderr
