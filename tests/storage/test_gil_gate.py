"""The GIL gate: background slices never run while a store holds the foreground."""

from __future__ import annotations

import threading

import pytest

from storage.gil_gate import GilGate

WAIT = 5.0  # seconds any step may take before the test fails instead of hanging
BLOCKED = 0.2  # how long a blocked step is watched to stay blocked


def in_thread(work) -> tuple[threading.Thread, threading.Event]:
    """Start ``work`` in a thread; the event is set once it has returned."""
    done = threading.Event()

    def target() -> None:
        work()
        done.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, done


def slice_in(gate: GilGate) -> tuple[threading.Thread, threading.Event]:
    def work() -> None:
        with gate.background():
            pass

    return in_thread(work)


class LongSlice:
    """A background slice that stays open until ``leave`` is set; ``inside`` once it runs."""

    def __init__(self, gate: GilGate) -> None:
        self.gate = gate
        self.inside, self.leave = threading.Event(), threading.Event()

    def start(self) -> None:
        """Start the slice and wait until it runs."""
        in_thread(self.run)
        assert self.inside.wait(WAIT)

    def run(self) -> None:
        with self.gate.background():
            self.inside.set()
            self.leave.wait(WAIT)


def test_a_background_slice_waits_while_the_foreground_is_held():
    gate = GilGate()
    with gate.foreground():
        _, done = slice_in(gate)
        assert not done.wait(BLOCKED)
    assert done.wait(WAIT)


def test_the_foreground_waits_for_a_running_slice_to_end():
    gate = GilGate()
    running = LongSlice(gate)
    running.start()
    held = threading.Event()

    def store() -> None:
        with gate.foreground():
            held.set()

    in_thread(store)
    assert not held.wait(BLOCKED)
    running.leave.set()
    assert held.wait(WAIT)


def test_slices_run_inside_an_opened_foreground_and_are_waited_for_when_it_closes():
    gate = GilGate()
    running, closed = LongSlice(gate), threading.Event()

    def store() -> None:
        with gate.foreground():
            with gate.opened():
                running.start()  # it starts although a store is running
            closed.set()  # only once the slice has ended

    _, stored = in_thread(store)
    assert running.inside.wait(WAIT)
    assert not closed.wait(BLOCKED)
    running.leave.set()
    assert closed.wait(WAIT) and stored.wait(WAIT)


def test_slices_wait_for_every_holder():
    gate = GilGate()
    release_first = threading.Event()

    def first_holder() -> None:
        with gate.foreground():
            release_first.wait(WAIT)

    _, first_done = in_thread(first_holder)
    with gate.foreground():
        _, sliced = slice_in(gate)
        assert not sliced.wait(BLOCKED)
        release_first.set()
        assert first_done.wait(WAIT)
        assert not sliced.wait(BLOCKED)  # this thread still holds it
    assert sliced.wait(WAIT)


def test_slices_do_not_exclude_each_other():
    gate = GilGate()
    running = LongSlice(gate)
    running.start()
    _, other = slice_in(gate)
    assert other.wait(WAIT)
    running.leave.set()


def test_opening_a_foreground_this_thread_does_not_hold_is_refused():
    gate = GilGate()
    with pytest.raises(RuntimeError, match="outside"), gate.opened():
        pass
    _, sliced = slice_in(gate)  # the refusal left the gate as it was
    assert sliced.wait(WAIT)
