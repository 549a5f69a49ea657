"""Reading new rows by id when PostgreSQL transactions commit out of id order.

Two real PostgreSQL sessions store at once: the one that took the lower ids commits last. The
evaluation must still see its complaints once (the copied-text and event rules read new texts
by id; the refit of baselines reads what was stored since the last tick).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.detect.id_cursor import MAX_LISTED_IDS, Hole, IdCursor, advance
from alerts.detect.sql_reader import SqlReader
from storage.ingest import ingest_complaints
from storage.models import Complaint
from tests.storage.test_ingest import T0, make

A, B = frozenset({7}), frozenset({7, 9})


def test_a_hole_is_kept_while_a_writer_that_could_fill_it_runs():
    cursor = advance(IdCursor(high=10), [11, 12, 15, 16], running=A)
    assert cursor == IdCursor(high=16, holes=(Hole(13, 14, A),))
    assert cursor.wants(13) and cursor.wants(17) and not cursor.wants(15)
    # the writer still runs: what came is taken out of the hole
    cursor = advance(cursor, [14, 17], running=B)
    assert cursor == IdCursor(high=17, holes=(Hole(13, 13, A),))
    # it has ended: this read saw everything it stored; the hole is gone
    assert advance(cursor, [13], running=frozenset({9})) == IdCursor(high=17)
    assert advance(cursor, [], running=frozenset()) == IdCursor(high=17)


def test_no_hole_without_running_writers_nor_on_databases_that_commit_in_id_order():
    assert advance(IdCursor(high=1), [3, 9], running=frozenset()) == IdCursor(high=9)
    assert advance(IdCursor(high=1), [3, 9], running=None) == IdCursor(high=9)
    assert advance(IdCursor(high=9), [], running=None) == IdCursor(high=9)


def test_many_hole_ids_are_read_by_their_span_and_filtered():
    few = IdCursor(high=100, holes=(Hole(3, 4, A), Hole(8, 8, A)))
    sql = str(few.condition(Complaint.id).compile(compile_kwargs={"literal_binds": True}))
    assert "IN (3, 4, 8)" in sql and "> 100" in sql
    many = IdCursor(high=10**6, holes=(Hole(5, 6, A), Hole(10, 10 + MAX_LISTED_IDS, A)))
    sql = str(many.condition(Complaint.id).compile(compile_kwargs={"literal_binds": True}))
    assert "BETWEEN 5 AND" in sql
    assert many.wants(6) and not many.wants(7) and many.wants(10 + MAX_LISTED_IDS)


@pytest.mark.postgres
def test_complaints_committed_after_higher_ids_are_read_once(postgres_engine):
    with (
        open_session(postgres_engine) as early,
        open_session(postgres_engine) as late,
        open_session(postgres_engine) as evaluation,
    ):
        reader_cursor = IdCursor()
        marks: dict = {}
        SqlReader(evaluation).stored_since(marks)
        evaluation.commit()
        # ``early`` takes the lower ids and keeps its transaction open
        ingest_complaints(early, [make(f"early-{i}", T0 - timedelta(days=3)) for i in range(5)])
        ingest_complaints(late, [make(f"late-{i}", T0) for i in range(5)])
        late.commit()

        texts, reader_cursor = SqlReader(evaluation).new_texts(reader_cursor, T0 - timedelta(7))
        assert sorted(r.external_id for r in texts) == [f"late-{i}" for i in range(5)]
        assert SqlReader(evaluation).stored_since(marks) == T0
        evaluation.commit()
        assert reader_cursor.holes, "the ids of the open transaction must be remembered"
        # a tick while it still runs: nothing new, and the hole is kept
        texts, reader_cursor = SqlReader(evaluation).new_texts(reader_cursor, T0 - timedelta(7))
        assert texts == [] and SqlReader(evaluation).stored_since(marks) is None
        evaluation.commit()

        early.commit()
        texts, reader_cursor = SqlReader(evaluation).new_texts(reader_cursor, T0 - timedelta(7))
        assert sorted(r.external_id for r in texts) == [f"early-{i}" for i in range(5)]
        assert SqlReader(evaluation).stored_since(marks) == T0 - timedelta(days=3)
        assert not reader_cursor.holes and not any(c.holes for c in marks.values())
        texts, reader_cursor = SqlReader(evaluation).new_texts(reader_cursor, T0 - timedelta(7))
        assert texts == [] and SqlReader(evaluation).stored_since(marks) is None


@pytest.mark.postgres
def test_the_hole_of_a_rolled_back_store_is_dropped_once_it_ended(postgres_engine):
    with open_session(postgres_engine) as failing, open_session(postgres_engine) as evaluation:
        ingest_complaints(failing, [make("lost", T0 - timedelta(hours=1))])  # another count row
        with open_session(postgres_engine) as other:
            ingest_complaints(other, [make("kept", T0)])
            other.commit()
        texts, cursor = SqlReader(evaluation).new_texts(IdCursor(), T0 - timedelta(1))
        evaluation.commit()
        assert [r.external_id for r in texts] == ["kept"] and cursor.holes
        failing.rollback()
        texts, cursor = SqlReader(evaluation).new_texts(cursor, T0 - timedelta(1))
        assert texts == [] and cursor == IdCursor(high=cursor.high)


def test_texts_and_stored_rows_on_either_database(session):
    """Ids in commit order (SQLite) or not (PostgreSQL), one writer reads like before."""
    marks: dict = {}
    reader = SqlReader(session)
    reader.stored_since(marks)
    ingest_complaints(session, [make(f"c{i}", T0 - timedelta(hours=i)) for i in range(3)])
    session.commit()
    texts, cursor = SqlReader(session).new_texts(IdCursor(), T0 - timedelta(days=1))
    assert [r.external_id for r in texts] == ["c0", "c1", "c2"] and not cursor.holes
    assert SqlReader(session).stored_since(marks) == T0 - timedelta(hours=2)
    assert SqlReader(session).new_texts(cursor, T0 - timedelta(days=1))[0] == []


def open_session(engine):
    from storage.db import make_session_factory

    return make_session_factory(engine)()


def test_many_holes_stay_cheap_and_in_order():
    """A first read over a long history leaves a hole between every two rows in its window."""
    delivered = list(range(0, 400_000, 2))
    cursor = advance(IdCursor(), delivered, running=A)
    assert len(cursor.holes) == 199_999 and cursor.high == 399_998
    assert [h.lo for h in cursor.holes] == sorted(h.lo for h in cursor.holes)
    assert sum(cursor.wants(i) for i in range(400_000)) == 200_000  # the odd ids
    later = advance(cursor, range(1, 400_000, 4), running=A)
    assert len(later.holes) == 99_999 and not later.wants(1) and later.wants(3)
