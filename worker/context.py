"""What every worker job gets: configuration, database, clock, collectors, channels, leadership."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.notify.channels import Channel
from alerts.notify.registry import build_channel
from collectors.base import Collector
from collectors.registry import build_collector
from config.loader import RadarConfig
from storage.db import make_session_factory
from worker.leader import LeaderLock, leader_lock_for

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WorkerContext:
    config: RadarConfig
    engine: Engine
    dashboard_url: str = "http://localhost:8501"
    clock: Clock = utc_now
    only_sources: frozenset[str] = frozenset()
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    factory: sessionmaker[Session] = field(init=False)
    collectors: dict[str, Collector] = field(init=False)
    channels: dict[str, Channel] = field(init=False)
    leader: LeaderLock = field(init=False)
    started_at: datetime = field(init=False)
    stats: dict[str, Any] = field(default_factory=dict)
    scheduler: BackgroundScheduler | None = None  # set by build_scheduler; lets jobs wake others
    running_jobs: set[str] = field(default_factory=set)  # job ids running now (see wake)
    rerun_jobs: set[str] = field(default_factory=set)  # woken while running: run once more
    wake_lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: bool = False  # set by stop_scheduler: no more wakes
    # this worker's sources that have stored nothing since start-up (see worker.main.build_scheduler)
    yet_to_store: set[str] = field(init=False)
    fresh_database: bool | None = None  # nothing stored when build_scheduler looked

    def __post_init__(self) -> None:
        self.factory = make_session_factory(self.engine)
        self.collectors = {
            s.name: build_collector(s)
            for s in self.config.sources.sources
            if s.enabled and (not self.only_sources or s.name in self.only_sources)
        }
        self.channels = {
            c.name: build_channel(c) for c in self.config.channels.channels if c.enabled
        }
        self.yet_to_store = set(self.collectors)
        self.leader = leader_lock_for(self.engine)
        self.started_at = self.clock()

    def is_leader(self) -> bool:
        leading = self.leader.try_acquire()
        if leading and not self.stats.get("leader"):
            self.stats["leader_since"] = self.clock().isoformat()
        self.stats["leader"] = leading
        return leading
