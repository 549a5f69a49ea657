"""Engine and session setup: SQLite in WAL mode by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per writer connection (SQLite's default is 2 MB). Ingest inserts into indexes on
# random keys (customer hash, product): with the default cache, a backfill evicted and re-read
# index pages on every group (measured: ingest 13,400 against 11,700 complaints/s).
SQLITE_WRITER_CACHE_KIB = 65_536
# Page size of a new database file (SQLite's default is 4 KiB; an existing file keeps its own).
# A commit writes every dirty page to the WAL as a frame of its own, and ingest dirties pages
# all over the random-key indexes: with 16 KiB pages a 20,000-complaint commit took ≈ 45 %
# less time and the whole store ≈ 20 % less (docs/PERFORMANCE.md, "Ingest, sixth round").
SQLITE_PAGE_SIZE = 16_384


def make_engine(url: str, *, read_only: bool = False, **kwargs) -> Engine:
    """Create an engine; for SQLite make the folder, turn on WAL and wait on locks instead of failing.

    SQLite writers start with BEGIN IMMEDIATE: a deferred transaction that later upgrades to a
    write lock fails at once with "database is locked" when another writer is active, whereas an
    immediate one waits for the busy timeout. ``read_only`` engines (the dashboard) keep deferred
    transactions, which under WAL never block writers.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if not read_only:
            event.listen(engine, "connect", _sqlite_writer_cache)
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event start transactions
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL: fixed once it is on
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_writer_cache(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_WRITER_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")  # ingest's staging table (storage.sqlite_ingest)
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)
