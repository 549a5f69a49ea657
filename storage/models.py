"""The database schema: the only contract between the worker and the dashboard.

Every timestamp is timezone-aware and stored in UTC (see ``UTCDateTime``). Missing
dimensions are stored as the empty string, never NULL, so that unique keys over
dimensions behave the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.dimensions import DIMENSIONS
from domain.states import AlertState, NotificationStatus
from storage.types import JSONType, UTCDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Complaint(Base):
    """One complaint as received from a source, with personal data already masked.

    On PostgreSQL the table is partitioned by month of ``received_at`` (migration 0004): its
    primary key there is (id, received_at) and the (source, external_id) key lives in
    ``complaint_keys``; ids stay unique, so the mapping keeps ``id`` as its identity.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_complaints_source_external_id"),
        Index("ix_complaints_received_at", "received_at"),
        Index("ix_complaints_product_received", "product_code", "received_at"),
        Index(
            "ix_complaints_customer_product_received", "customer_key", "product_code", "received_at"
        ),
        Index("ix_complaints_branch", "branch"),  # the ledger's filter lists (migration 0018)
        Index("ix_complaints_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]
    collected_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    product_code: Mapped[str] = mapped_column(String(64), default="")
    product_name: Mapped[str] = mapped_column(String(128), default="")
    product_line: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    event_tag: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    customer_key: Mapped[str] = mapped_column(String(64), default="")
    # The branch office accountable for the complaint (分公司 / 中心支公司): the monthly report's key.
    branch: Mapped[str] = mapped_column(String(64), default="", server_default="")
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    is_multichannel: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    is_complex: Mapped[bool] = mapped_column(Boolean, default=False)
    # Regulatory decision deadline: 0 = 15 days after receipt, 1 = extended to 30, 2 = to 60.
    extension_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


# What ingest writes of a normalised complaint (the other columns take their defaults).
INGESTED_COLUMNS = (
    "source",
    "external_id",
    "received_at",
    "collected_at",
    "channel",
    "product_code",
    "product_name",
    "product_line",
    "region",
    "category",
    "event_tag",
    "text",
    "customer_key",
    "branch",
)
# complaint_counts' key besides bucket_start: what every count is broken down by.
COUNT_DIMENSIONS = DIMENSIONS


class ComplaintCount(Base):
    """Complaints per time bucket per dimension tuple; what detection reads."""

    __tablename__ = "complaint_counts"
    __table_args__ = (
        UniqueConstraint("bucket_start", *COUNT_DIMENSIONS, name="uq_complaint_counts_bucket_dims"),
        Index("ix_complaint_counts_product_bucket", "product_code", "bucket_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bucket_start: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    product_code: Mapped[str] = mapped_column(String(64), default="")
    product_line: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    event_tag: Mapped[str] = mapped_column(String(64), default="")
    branch: Mapped[str] = mapped_column(String(64), default="", server_default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class CountDelivery(Base):
    """What a count-only source last delivered per raw row: a re-delivery replaces, never adds."""

    __tablename__ = "count_deliveries"
    __table_args__ = (UniqueConstraint("source", "raw_key", name="uq_count_deliveries_source_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    raw_key: Mapped[str] = mapped_column(String(64))
    interval_start: Mapped[datetime]
    interval_minutes: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    product_code: Mapped[str] = mapped_column(String(64), default="")
    product_line: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    event_tag: Mapped[str] = mapped_column(String(64), default="")
    branch: Mapped[str] = mapped_column(String(64), default="", server_default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime]


class QuarantinedRecord(Base):
    """A record a source delivered that could not be stored, kept with the reason."""

    __tablename__ = "quarantined_records"
    __table_args__ = (
        Index("ix_quarantine_source_at", "source", "quarantined_at"),
        Index("ix_quarantine_source_external_id", "source", "external_id"),  # idempotent quarantine
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="")
    quarantined_at: Mapped[datetime]


class SourceState(Base):
    """Cursor and health of one configured source."""

    __tablename__ = "source_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    cursor: Mapped[str] = mapped_column(Text, default="")
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    records_last_run: Mapped[int] = mapped_column(Integer, default=0)
    quarantined_last_run: Mapped[int] = mapped_column(Integer, default=0)
    total_records: Mapped[int] = mapped_column(BigInteger, default=0)
    last_received_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class Alert(Base):
    """One alert per fingerprint (rule + key) and firing; a new surge after resolution is a new row."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_fingerprint_state", "fingerprint", "state"),
        Index("ix_alerts_state_severity", "state", "severity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    rule_kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[dict[str, Any]]
    title: Mapped[str] = mapped_column(String(256), default="")
    severity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=AlertState.PENDING)
    started_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]
    below_since: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str] = mapped_column(String(64), default="")
    resolved_at: Mapped[datetime | None]
    count: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    evidence: Mapped[dict[str, Any]]
    silenced: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    # 0 until a re-trigger reopens it (alerts.state.lifecycle.reopens); notifications are keyed by it
    episode: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    episode_at: Mapped[datetime | None]  # when the current episode began (None: the first)
    # a roster person id set by a reassignment (alerts.state.actions.reassign); "" = the on-call
    assignee: Mapped[str] = mapped_column(String(64), default="", server_default="")

    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", cascade="all, delete-orphan"
    )


class AlertEvent(Base):
    """The audit trail: every state change and every human action on an alert."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_alert", "alert_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16), default="")
    to_state: Mapped[str] = mapped_column(String(16), default="")
    actor: Mapped[str] = mapped_column(String(64), default="system")
    message: Mapped[str] = mapped_column(Text, default="")

    alert: Mapped[Alert] = relationship(back_populates="events")


class Notification(Base):
    """One message for alert x state x escalation level x receiver; the key makes sends idempotent."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # NULL for a message that is not about an alert (kind "message", e.g. the weekly report).
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    alert_state: Mapped[str] = mapped_column(String(16))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    receiver: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="alert", server_default="alert")
    # kind "message": title, note, link and attachments (base64), frozen when queued.
    payload: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message: Mapped[str] = mapped_column(Text, default="")


class SmsReplyCode(Base):
    """A short code sent in one SMS page for one alert: the person who got it acknowledges the
    alert by replying it from that number (see ``alerts.notify.reply_codes``).

    Written in the same transaction that claims the page, before the network call; a code
    counts only once its notification row was handed to the platform (sent or unknown), is used
    once (``used_at``) and is dead once its alert resolves.
    """

    __tablename__ = "sms_reply_codes"
    __table_args__ = (
        UniqueConstraint("message_key", "alert_id", name="uq_sms_reply_codes_message_alert"),
        Index("ix_sms_reply_codes_lookup", "channel", "phone", "code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))
    receiver: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(8))
    message_key: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Silence(Base):
    """Alerts matching these label matchers in [starts_at, ends_at) are recorded but not notified."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    matchers: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Installation(Base):
    """One row: a random id made when the database is created (migration 0009).

    It goes into every idempotency key sent out, so keys of this database never meet those of
    another (a rebuilt database, staging beside production) at a receiver that drops repeats.
    """

    __tablename__ = "installation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]


class WorkerHeartbeat(Base):
    """Each worker process writes here so the dashboard can tell a dead worker from a quiet one."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(128), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    info: Mapped[dict[str, Any]]


class MonthlySnapshot(Base):
    """The parts of an accountability cycle's report that only a new complaint changes (counts
    per branch and channel, upgrades, the previous cycle's and last year's totals), written by
    the worker for the open cycle and the closed ones (migration 0017). ``fingerprint``: the
    complaints stored in the ranges they were counted from; the page uses a snapshot while it
    still matches (the open cycle's also while it is recent), and counts overdue decisions
    live."""

    __tablename__ = "monthly_snapshots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # cycle and the rules used
    cycle: Mapped[str] = mapped_column(String(16))
    built_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    parts: Mapped[dict[str, Any]]
