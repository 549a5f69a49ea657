"""The worker process as started by ``manage.py worker``: its own process-wide settings."""

from __future__ import annotations

import gc
import re
import sys
import weakref

from alerts.tuning import tune_process, tuned_process
from tests.reliability.helpers import WorkerProcess, wait_for
from tests.reliability.scenario import radar_config


def test_the_worker_tunes_thread_switching_and_garbage_collection(tmp_path):
    """A PostgreSQL store's round trips wait for the GIL while a helper thread normalises, and
    ingest allocates per complaint: the worker shortens the switch interval from Python's 5 ms
    and collects young objects less often, with its start-up objects frozen (alerts.tuning)."""
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
