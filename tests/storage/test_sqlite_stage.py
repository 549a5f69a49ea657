"""SQLite ingest stages rows in a per-connection table: a rolled-back store leaves none behind."""

from __future__ import annotations

from collectors.normalize import normalize
from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.sqlite_ingest import insert_new_complaints_sqlite, stage_new_complaints
from tests.collectors.helpers import NOW, record


def complaints(numbers: range) -> list:
    return [normalize(record(i), "staged", NOW) for i in numbers]


def test_a_rolled_back_store_leaves_nothing_staged_for_the_next(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'stage.db'}")
    upgrade_to_head(engine)
    with engine.connect() as connection:  # one connection: its staging table is reused
        transaction = connection.begin()
        first, staged = stage_new_complaints(connection, complaints(range(0, 5)))
        assert (first, len(staged)) == (1, 5)
        transaction.rollback()  # e.g. the group's transaction failed after staging

        with connection.begin():
            first, new = insert_new_complaints_sqlite(connection, complaints(range(10, 13)))
        rows = connection.exec_driver_sql(
            "SELECT id, external_id FROM complaints ORDER BY id"
        ).all()
        left = connection.exec_driver_sql("SELECT count(*) FROM temp.ingest_page").scalar()

    assert (first, len(new)) == (1, 3)
    assert rows == [(1, "G00010"), (2, "G00011"), (3, "G00012")]
    assert left == 0
    engine.dispose()


def test_the_stage_is_emptied_after_each_store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'stage.db'}")
    upgrade_to_head(engine)
    with engine.connect() as connection:
        for numbers in (range(0, 4), range(2, 8)):  # the second page repeats two complaints
            with connection.begin():
                insert_new_complaints_sqlite(connection, complaints(numbers))
        ids = connection.exec_driver_sql("SELECT external_id FROM complaints").scalars().all()
        left = connection.exec_driver_sql("SELECT count(*) FROM temp.ingest_page").scalar()

    assert sorted(ids) == [f"G{i:05d}" for i in range(8)]
    assert left == 0
    engine.dispose()
