"""A hostile drop folder (issue 19 items 5 and 6).

Symbolic links (to a file outside the inbox, or to a folder) are refused and moved to failed/
without being read; no file content is echoed into a reason; a file named with a newline and an
escape sequence cannot forge a line in the worker's log.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from collectors.csv_folder import CsvFolderCollector
from config.logsafe import escape_controls
from config.sources import CsvFolderSource
from storage.migrate import upgrade_to_head
from storage.models import Complaint, QuarantinedRecord, SourceState
from tests.collectors.helpers import complaints, quarantined, run
from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import radar_config

SECRET_LINE = "root-secret-first-line,received_at-is-not-here"
GOOD = "id,received_at,channel,product_code,text\nG1,2026-11-23 09:00,hotline,P1,理赔慢\n"
FORGED_NAME = "a.csv\n2026-12-03 06:00:00,000 ERROR radar: forged \x1b[31mred\u202eexe.csv"


def _collector(inbox: Path) -> CsvFolderCollector:
    config = {"name": "drop", "kind": "csv_folder", "inbox": inbox, "settle_seconds": 0}
    return CsvFolderCollector(CsvFolderSource.model_validate(config))


@pytest.fixture
def hostile_inbox(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.csv").write_text(SECRET_LINE + "\nx,y\n", encoding="utf-8")
    (outside / "good.csv").write_text(GOOD, encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.csv").symlink_to(outside / "passwd.csv")
    (inbox / "link-good.csv").symlink_to(outside / "good.csv")
    (inbox / "dir-link.csv").symlink_to(outside, target_is_directory=True)
    return inbox


def test_links_are_refused_unread_and_moved_to_failed(factory, hostile_inbox):
    for _ in range(4):
        run(factory, "drop", "csv_folder", _collector(hostile_inbox))
    assert complaints(factory, "drop") == []  # the good file behind a link is not imported either
    reasons = [q.reason for q in quarantined(factory, "drop")]
    assert len(reasons) == 3 and all("symbolic link refused" in r for r in reasons), reasons
    failed = hostile_inbox / "failed"
    assert sorted(p.name for p in failed.iterdir() if p.is_symlink()) == [
        "dir-link.csv", "link-good.csv", "link.csv"
    ]  # fmt: skip
    notes = " ".join(p.read_text(encoding="utf-8") for p in failed.glob("*.reason.txt"))
    assert "root-secret" not in notes and "root-secret" not in " ".join(reasons)
    assert (hostile_inbox.parent / "outside" / "passwd.csv").exists()  # the target is untouched


def test_a_missing_time_column_does_not_echo_the_header_line(factory, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "copy.csv").write_text(SECRET_LINE + "\nx,y\n", encoding="utf-8")
    run(factory, "drop", "csv_folder", _collector(inbox))
    [record] = quarantined(factory, "drop")
    assert "no time column" in record.reason and "root-secret" not in record.reason
    note = (inbox / "failed" / "copy.csv.reason.txt").read_text(encoding="utf-8")
    assert "root-secret" not in note


def test_escape_controls_leaves_one_visible_line():
    assert escape_controls(FORGED_NAME) == (
        "a.csv\\n2026-12-03 06:00:00,000 ERROR radar: forged \\x1b[31mred\\u202eexe.csv"
    )
    assert escape_controls("理赔\t慢") == "理赔\t慢"


@pytest.mark.parametrize("with_links", [False, True])
def test_worker_refuses_links_and_logs_hostile_names_on_one_line(
    tmp_path, hostile_inbox, with_links
):
    if not with_links:
        for link in hostile_inbox.glob("*link*"):
            link.unlink()
    (hostile_inbox / FORGED_NAME).write_text(GOOD, encoding="utf-8")
    old = time.time() - 120
    os.utime(hostile_inbox / FORGED_NAME, (old, old))
    source = {"name": "drop", "kind": "csv_folder", "inbox": str(hostile_inbox),
              "settle_seconds": 0, "interval_seconds": 5}  # fmt: skip
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    worker = WorkerProcess(url, radar_config(tmp_path / "config", [source]), tmp_path / "w.log")
    engine = create_engine(url)
    upgrade_to_head(engine)
    try:
        worker.start()

        def settled() -> bool:
            with Session(engine) as session:
                state = session.get(SourceState, "drop")
                done = session.scalar(select(Complaint.id).where(Complaint.external_id == "G1"))
                return bool(state and done and not list(hostile_inbox.glob("*link*")))

        wait_for(settled, 90, "the drop folder to be worked through")
    finally:
        worker.stop()
    log = worker.log_text()
    assert not [line for line in log.splitlines() if line.startswith("2026-12-03 06:00:00,000")]
    assert "\x1b" not in log and "\u202e" not in log
    assert "forged \\x1b[31mred" in log  # shown, escaped, on the worker's own line
    with Session(engine) as session:
        reasons = list(session.scalars(select(QuarantinedRecord.reason)))
    engine.dispose()
    assert sum("symbolic link refused" in r for r in reasons) == (3 if with_links else 0)
    assert not re.search("root-secret", log + " ".join(reasons))


def test_tracebacks_cannot_forge_a_record_line():
    import logging

    from config.logsafe import SafeFormatter

    formatter = SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        raise ValueError("bad value\n2026-12-03 06:00:00,000 ERROR radar: forged\x1b[2J")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "radar", logging.ERROR, __file__, 1, "failed %s", ("x\ny",), sys.exc_info()
        )
    lines = formatter.format(record).split("\n")
    assert lines[0].endswith("ERROR radar: failed x\\ny")
    assert all(line.startswith("    ") for line in lines[1:]), lines
    assert "\x1b" not in "\n".join(lines)


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_property_escaped_log_values_are_one_visible_line(value):
    out = escape_controls(value)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert not re.search(
        r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", out
    )
    assert escape_controls(out) == out  # escapes are plain visible text
