"""Offset-less source times are read in the source's own zone (``timezone`` in sources.yaml),
by default in ``calendar.timezone`` of rules.yaml: a system abroad writes its local time."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from collectors.counts import CountsCollector
from config.loader import check_config, load_config
from config.settings import PROJECT_ROOT
from config.sources import CountsSource, source_zone
from storage.models import Complaint, ComplaintCount
from tests.collectors.helpers import run
from tests.conftest import Clock
from tests.reliability.helpers import write_config
from tests.reliability.scenario import radar_config
from worker.context import WorkerContext
from worker.main import collect_job

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
# Local London times: British Summer Time (UTC+1) in July, Greenwich Mean Time in December.
ROWS = (
    "id,received_at,channel,product_code,text\n"
    "L1,2026-07-01 10:00:00,热线,P1,晚到的理赔\n"
    "L2,2026-12-01 10:00:00,热线,P1,拒赔\n"
)


def csv_source(inbox: Path, **overrides: Any) -> dict[str, Any]:
    source = {"name": "london", "kind": "csv_folder", "inbox": str(inbox), "settle_seconds": 0}
    return source | overrides


def with_calendar_zone(folder: Path, zone: str) -> None:
    """Set calendar.timezone in the folder's rules.yaml, keeping its (empty) rules."""
    write_config(folder, rules={"rules": [], "calendar": {"timezone": zone}})


def stored_times(engine: Engine) -> dict[str, datetime]:
    with Session(engine) as session:
        rows = session.execute(select(Complaint.external_id, Complaint.received_at)).all()
    return {cid: at if at.tzinfo else at.replace(tzinfo=UTC) for cid, at in rows}


def test_a_london_source_s_naive_times_are_stored_as_the_right_utc_instants(
    sqlite_engine, tmp_path
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "complaints.csv").write_text(ROWS, encoding="utf-8")
    folder = radar_config(tmp_path / "config", [csv_source(inbox, timezone="Europe/London")])
    ctx = WorkerContext(config=load_config(folder), engine=sqlite_engine, clock=Clock(NOW))

    collect_job(ctx, "london")  # the worker's own path: runner, normalise, store

    assert stored_times(sqlite_engine) == {
        "L1": datetime(2026, 7, 1, 9, 0, tzinfo=UTC),  # 10:00 BST
        "L2": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),  # 10:00 GMT
    }


def test_without_its_own_zone_a_source_follows_calendar_timezone(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    own = csv_source(inbox, name="tokyo", timezone="Asia/Tokyo")
    folder = radar_config(tmp_path / "config", [csv_source(inbox), own])
    shanghai = {s.name: s.timezone for s in load_config(folder).sources.sources}
    assert shanghai == {"london": "Asia/Shanghai", "tokyo": "Asia/Tokyo"}

    with_calendar_zone(folder, "Europe/London")
    sources = {s.name: s for s in load_config(folder).sources.sources}
    assert source_zone(sources["london"]) == ZoneInfo("Europe/London")
    assert source_zone(sources["tokyo"]) == ZoneInfo("Asia/Tokyo")  # its own zone wins


def test_a_source_built_without_configuration_reads_beijing_time(sqlite_engine, tmp_path):
    """A source model made in code (tests, tools) without a zone keeps the product default."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = load_config(radar_config(tmp_path / "config", [csv_source(inbox)]))
    assert source_zone(config.sources.sources[0].model_copy(update={"timezone": None})) == (
        ZoneInfo("Asia/Shanghai")
    )


def test_an_unknown_zone_fails_check_config_with_a_readable_message(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    folder = radar_config(tmp_path / "config", [csv_source(inbox, timezone="Europe/Lodnon")])
    config, issues = check_config(folder)
    assert config is None
    assert [(i.file, i.path) for i in issues] == [
        ("sources.yaml", "sources[0].csv_folder.timezone")
    ]

    done = subprocess.run(
        [sys.executable, "manage.py", "check-config", "--config-dir", str(folder)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "sources.yaml: sources[0].csv_folder.timezone" in done.stderr
    assert "unknown time zone 'Europe/Lodnon'" in done.stderr
    assert "IANA name such as Asia/Shanghai or Europe/London" in done.stderr


def test_a_count_source_s_naive_intervals_start_in_its_zone(factory, tmp_path):
    """Count rows carry their own interval times: a CTI abroad counts in its local hours."""
    path = tmp_path / "cti.csv"
    path.write_text("interval_start,product_code,count\n2026-11-23 09:00,P1,2\n", encoding="utf-8")
    source = CountsSource.model_validate(
        {
            "name": "cti",
            "kind": "counts",
            "path": path,
            "interval_minutes": 5,
            "timezone": "Europe/London",
        }
    )
    result = run(factory, "cti", "counts", CountsCollector(source))
    assert (result.counts, result.error) == (2, "")
    with factory() as session:
        starts = session.scalars(select(ComplaintCount.bucket_start)).all()
    assert {s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in starts} == {
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 09:00 GMT, not 01:00 as Beijing time
    }
