"""What differs between the two databases, one object per database.

Code outside ``storage/`` asks ``dialect_of(engine, connection or session)`` (or
``dialect_of_url``) for these few operations instead of testing the dialect's name itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, literal_column, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# The write transactions in progress now, as the current snapshot sees them (PostgreSQL).
_XIP = "pg_snapshot_xip(pg_current_snapshot())"


class SQLite:
    name = "sqlite"
    # One machine, one writer at a time: no leader election, and ids follow commit order.
    advisory_locks = False

    def has_database(self, url: str) -> bool:
        """Whether the database file exists (a SQLite engine would create it)."""
        return Path(make_url(url).database or "").is_file()

    def connect_timeout(self, seconds: int) -> dict[str, Any]:
        """``make_engine`` arguments to give up connecting after ``seconds``: a file opens at
        once."""
        return {}

    def epoch_seconds(self, column: Any) -> ColumnElement:
        """Whole seconds since 1970 of a stored time ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC)."""
        return cast(func.strftime("%s", column), Integer)

    def local_day(self, column: Any, timezone: str) -> ColumnElement:
        """The day of a stored UTC time in ``timezone``, as 'YYYY-MM-DD'.

        SQLite has no time zone database: this shifts by the zone's UTC offset now, which is
        right for a zone with one offset all year (Asia/Shanghai). A zone with daylight saving
        time would need the offset of each row's own date.
        """
        offset = datetime.now(ZoneInfo(timezone)).utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return func.date(column, f"{seconds:+d} seconds")

    def running_writers(self, session: Session) -> frozenset[int] | None:
        """None: ids follow commit order."""
        return None

    def running_writers_at_read(self) -> ColumnElement | None:
        return None


class PostgreSQL:
    name = "postgresql"
    # Session-level advisory locks elect one leader among several workers.
    advisory_locks = True

    def has_database(self, url: str) -> bool:
        """Whether the database exists: the server will say when connecting."""
        return True

    def connect_timeout(self, seconds: int) -> dict[str, Any]:
        return {"connect_args": {"connect_timeout": seconds}}

    def epoch_seconds(self, column: Any) -> ColumnElement:
        return cast(func.extract("epoch", column), BigInteger)

    def local_day(self, column: Any, timezone: str) -> ColumnElement:
        return func.date(func.timezone(timezone, column))

    def running_writers(self, session: Session) -> frozenset[int] | None:
        """The write transactions in progress now."""
        rows = session.execute(text(f"SELECT x::text::bigint FROM {_XIP} x"))
        return frozenset(row[0] for row in rows)

    def running_writers_at_read(self) -> ColumnElement | None:
        """A column with the write transactions the statement's own snapshot cannot see: a
        transaction gets its xid at its first write, and the collectors' PostgreSQL store writes
        its staging table before it takes any complaint id, so every transaction that holds an
        id of a hole is in it."""
        return literal_column(f"(SELECT array_agg(x::text::bigint) FROM {_XIP} x)")


Dialect = SQLite | PostgreSQL
_DIALECTS: dict[str, Dialect] = {"sqlite": SQLite(), "postgresql": PostgreSQL()}


def dialect_of(bind: Any) -> Dialect:
    """The dialect of an engine, a connection or a session."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return _named(bind.dialect.name)


def dialect_of_url(url: str) -> Dialect:
    """The dialect of a database URL, before any engine is made."""
    return _named(make_url(url).get_backend_name())


def _named(name: str) -> Dialect:
    if name not in _DIALECTS:
        raise NotImplementedError(f"unsupported database dialect: {name}")
    return _DIALECTS[name]
