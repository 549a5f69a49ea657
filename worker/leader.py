"""Leader election: any number of workers may collect, exactly one evaluates and notifies.

On PostgreSQL the leader holds a session-level advisory lock on a dedicated connection; when
the process dies (even with SIGKILL) the server drops the session and the lock with it, and a
standby takes it on its next evaluation tick. SQLite is single-machine by nature, so there the
one worker is always the leader.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import Connection, Engine, text

from storage.dialect import dialect_of

log = logging.getLogger("radar.leader")

# The lock key is derived from the database and schema, so that every worker of one deployment
# contends for the same lock while deployments in other schemas of the same server do not.
_KEY_QUERY = "SELECT hashtextextended('complaint-radar:' || current_database() || '.' || current_schema(), 0)"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """True while this process is the leader; cheap enough to call every tick."""
        ...

    def release(self) -> None: ...


class AlwaysLeader:
    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


class PostgresAdvisoryLock:
    def __init__(self, engine: Engine, key: int | None = None):
        self.engine = engine
        self.key = key
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self.connection is not None:
            if self._still_held():
                return True
            log.warning("lost the leader lock (database connection broke)")
            self._drop_connection()
        try:
            connection = self.engine.connect()
            if self.key is None:
                self.key = int(connection.execute(text(_KEY_QUERY)).scalar_one())
            acquired = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                ).scalar()
            )
            connection.commit()
        except Exception as exc:  # database unavailable: not the leader, try next tick
            log.warning("leader election failed: %s", type(exc).__name__)
            return False
        if acquired:
            log.info("this worker is now the leader")
            self.connection = connection
            return True
        connection.close()
        return False

    def _still_held(self) -> bool:
        assert self.connection is not None
        try:
            held = self.connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objid = (:k & 4294967295)::bigint::oid"
                ),
                {"k": self.key},
            ).scalar()
            self.connection.commit()
            return bool(held)
        except Exception:
            return False

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except Exception:
                log.debug("closing a broken leader connection failed", exc_info=True)
        self.connection = None

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self.connection.commit()
            self.connection.close()
        except Exception:
            log.debug("releasing the leader lock failed", exc_info=True)
        self.connection = None


def leader_lock_for(engine: Engine) -> LeaderLock:
    if dialect_of(engine).advisory_locks:
        return PostgresAdvisoryLock(engine)
    return AlwaysLeader()
