"""Fixtures shared by the collector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.models import SourceState


@pytest.fixture
def commits() -> Iterator[list[str]]:
    """The source's stored cursor after each commit of a transaction that wrote it."""
    seen: list[str] = []

    def after_commit(session) -> None:
        states = [obj for obj in session.identity_map.values() if isinstance(obj, SourceState)]
        seen.extend(state.cursor for state in states)

    event.listen(Session, "after_commit", after_commit)
    yield seen
    event.remove(Session, "after_commit", after_commit)
