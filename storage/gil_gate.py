"""Who holds the GIL while a SQLite store runs next to a thread normalising the next group.

A SQLite store runs in this process. Part of it is Python and row binding: ``sqlite3``'s
``executemany`` lets go of the GIL while SQLite stores each row and needs it back to bind the
next, and a normalising thread would keep it for up to the switch interval each time, so every
row would wait. The other part (moving the staged rows into ``complaints``, the count roll-up,
the repeat query, the commit) is long calls inside SQLite without the GIL, when a normalising
thread costs the store nothing.

So a SQLite store holds the ``foreground()``, ``opened()`` around its long calls (the commit
comes after it has let go), and a fetch-ahead thread normalises in short slices, each inside
``background()``: a slice starts only while no store holds the foreground, and a store taking
it back waits for the slices already running (a few dozen records) to end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class GilGate:
    """Foreground holders exclude background slices; neither kind excludes its own kind."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holders = 0
        self._slices = 0
        self._mine = threading.local()  # this thread's depth of foreground() blocks

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """This thread needs the GIL back quickly: no background slice runs meanwhile."""
        self._hold()
        self._mine.depth = getattr(self._mine, "depth", 0) + 1
        try:
            yield
        finally:
            self._mine.depth -= 1
            self._let_go()

    @contextmanager
    def opened(self) -> Iterator[None]:
        """Inside ``foreground()``: a long call without the GIL, background slices may run."""
        if not getattr(self._mine, "depth", 0):
            raise RuntimeError("GilGate.opened() outside this thread's foreground()")
        self._let_go()
        try:
            yield
        finally:
            self._hold()

    @contextmanager
    def background(self) -> Iterator[None]:
        """A short piece of background work: waits while any thread holds the foreground."""
        with self._changed:
            self._changed.wait_for(lambda: self._holders == 0)
            self._slices += 1
        try:
            yield
        finally:
            with self._changed:
                self._slices -= 1
                if self._slices == 0:
                    self._changed.notify_all()

    def _hold(self) -> None:
        with self._changed:
            self._holders += 1
            self._changed.wait_for(lambda: self._slices == 0)

    def _let_go(self) -> None:
        with self._changed:
            self._holders -= 1
            self._changed.notify_all()


GIL_GATE = GilGate()
