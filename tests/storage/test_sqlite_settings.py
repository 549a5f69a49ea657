"""SQLite connection settings: new files get 16 KiB pages, existing files keep theirs."""

from __future__ import annotations

import sqlite3

from storage.db import SQLITE_PAGE_SIZE, make_engine
from storage.migrate import upgrade_to_head


def page_size_and_journal(engine) -> tuple[int, str]:
    with engine.connect() as connection:
        size = connection.exec_driver_sql("PRAGMA page_size").scalar()
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    return size, journal


def test_a_new_database_gets_the_larger_pages_and_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    upgrade_to_head(engine)

    assert SQLITE_PAGE_SIZE == 16_384
    assert page_size_and_journal(engine) == (16_384, "wal")
    engine.dispose()


def test_an_existing_database_keeps_its_pages_and_its_data(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE kept (x INTEGER)")
    old.execute("INSERT INTO kept VALUES (1)")
    old.commit()
    old.close()

    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO kept VALUES (2)")

    assert page_size_and_journal(engine) == (4096, "wal")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT sum(x) FROM kept").scalar() == 3
    engine.dispose()
