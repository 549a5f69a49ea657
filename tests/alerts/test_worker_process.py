"""The worker process as started by ``manage.py worker``: its own process-wide settings."""

from __future__ import annotations

import gc
import re
import sys
import weakref

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Complaint, WorkerHeartbeat
from tests.reliability.helpers import ComplaintApi, WorkerProcess, wait_for
from tests.reliability.scenario import radar_config, source_state
from worker.tuning import tune_process, tuned_process


def test_the_worker_tunes_thread_switching_and_garbage_collection(tmp_path):
    """A PostgreSQL store's round trips wait for the GIL while a helper thread normalises, and
    ingest allocates per complaint: the worker shortens the switch interval from Python's 5 ms
    and collects young objects less often, with its start-up objects frozen (worker.tuning)."""
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    worker = WorkerProcess(url, radar_config(tmp_path / "config", []), tmp_path / "worker.log")
    try:
        worker.start()
        wait_for(lambda: "starting with" in worker.log_text(), 60, "the worker to start")
    finally:
        worker.stop()
    started = re.search(r"starting with 0 sources \((.*)\)", worker.log_text())
    assert started, worker.log_text()
    settings = started[1]
    assert settings.startswith(
        "threads switch every 1 ms, young objects collected every 10,000 allocations, "
    )
    frozen = re.search(r"([\d,]+) start-up objects frozen$", settings)
    assert frozen and int(frozen[1].replace(",", "")) > 10_000  # imports, configuration


def test_tuned_process_restores_the_interpreter_afterwards():
    """The bench measures with the worker's settings inside its own process, then undoes them."""
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with tuned_process() as settings:
        assert sys.getswitchinterval() == 0.001
        assert gc.get_threshold() == (10_000, *thresholds[1:])
        assert gc.get_freeze_count() > 0
        assert settings.startswith("threads switch every 1 ms")
    assert (sys.getswitchinterval(), gc.get_threshold()) == (interval, thresholds)
    assert gc.get_freeze_count() == 0


def test_tune_process_frees_start_up_garbage_instead_of_freezing_it():
    """A reference cycle left over from start-up is collected, not kept forever by the freeze."""

    class Node:
        pass

    cycle = Node()
    cycle.self = cycle
    collected = []
    weakref.finalize(cycle, collected.append, "freed")
    del cycle
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    try:
        tune_process()
        assert collected == ["freed"]
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


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
            wait_for(lambda n=name: source_state(engine, n), 60, f"{name}'s fetch to be stored")
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
