"""The worker process as started by ``manage.py worker``."""

from __future__ import annotations

from functools import partial

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Complaint, WorkerHeartbeat
from tests.reliability.helpers import ComplaintApi, WorkerProcess, wait_for
from tests.reliability.scenario import radar_config, source_state


def test_sources_that_do_not_answer_hold_back_neither_evaluation_nor_heartbeat(tmp_path):
    """At start-up every job runs side by side, each in a thread of its own: while eleven
    sources' first fetches hang (more than APScheduler's default ten threads), the worker has
    already evaluated and written its heartbeat; each source is stored once it answers."""
    api = ComplaintApi()
    api.set_mode("hold")
    api.add([{"id": "H-1", "received_at": "2026-11-23T10:00:00+08:00", "channel": "热线"}])
    names = [f"hotline-{n}" for n in range(11)]
    sources = [
        {
            "name": name,
            "kind": "http_api",
            "url": f"{api.base}/complaints",
            "records_path": "items",
            "interval_seconds": 600,
            "timeout_seconds": 120,
        }
        for name in names
    ]
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    worker = WorkerProcess(url, radar_config(tmp_path / "config", sources), tmp_path / "w.log")
    engine = create_engine(url)
    try:
        worker.start()
        wait_for(lambda: "starting with" in worker.log_text(), 60, "the worker to start")
        beat = wait_for(lambda: _heartbeat_info(engine), 60, "a heartbeat after an evaluation")
        assert "last_evaluation" in beat
        wait_for(lambda: api.hits == len(names), 30, "every source to be fetching at once")
        assert [source_state(engine, name) for name in names] == [None] * len(names)
        api.released.set()
        for name in names:
            wait_for(partial(source_state, engine, name), 60, f"{name}'s fetch to be stored")
        with Session(engine) as session:
            stored = session.execute(select(Complaint.source, Complaint.external_id)).all()
        assert sorted(stored) == [(name, "H-1") for name in sorted(names)]
    finally:
        api.released.set()
        worker.stop()
        api.close()
        engine.dispose()


def _heartbeat_info(engine) -> dict | None:
    """The worker's heartbeat once it records an evaluation (the first beat may come first)."""
    with Session(engine) as session:
        beat = session.scalars(select(WorkerHeartbeat)).first()
        return beat.info if beat is not None and "last_evaluation" in beat.info else None
