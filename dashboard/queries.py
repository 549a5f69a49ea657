"""Read queries behind the dashboard: plain functions over an engine, returning DataFrames.

They are pure with respect to their arguments (no Streamlit, no clock) so tests run them on
SQLite and PostgreSQL; ``dashboard/cache.py`` wraps them in ``st.cache_data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.orm import Session

from alerts.detect.findings import alert_start
from alerts.state.silences import active_silences, alert_labels, catches
from dashboard.alert_titles import title_details
from dashboard.channel_health import channel_health  # noqa: F401  (cache.live looks it up)
from domain.buckets import BUCKET
from domain.calendar import DEFAULT_TIMEZONE
from domain.dimensions import ATTRIBUTE_DIMENSIONS
from domain.states import ACTIVE_ALERT_STATES
from storage.dialect import dialect_of
from storage.models import (
    Alert,
    AlertEvent,
    Complaint,
    ComplaintCount,
    QuarantinedRecord,
    Silence,
    SourceState,
    WorkerHeartbeat,
)
from storage.queries import window_counts

COUNT_DIMENSIONS = ATTRIBUTE_DIMENSIONS
WEEK = timedelta(days=7)


def _frame(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def channel_totals(engine: Engine, since: datetime, until: datetime) -> dict[str, int]:
    """Complaints per channel in buckets starting in [since, until)."""
    with Session(engine) as session:
        counts = window_counts(session, ["channel"], since, until)
    return {key[0]: n for key, n in sorted(counts.items())}


@dataclass(frozen=True)
class WallSummary:
    """Today and the last hour by channel, each with the same span one week earlier."""

    today: dict[str, int]
    today_last_week: dict[str, int]
    last_hour: dict[str, int]
    last_hour_last_week: dict[str, int]


def wall_summary(engine: Engine, now: datetime, day_start: datetime) -> WallSummary:
    until = now + timedelta(microseconds=1)
    hour_ago = now - timedelta(hours=1)
    return WallSummary(
        today=channel_totals(engine, day_start, until),
        today_last_week=channel_totals(engine, day_start - WEEK, until - WEEK),
        last_hour=channel_totals(engine, hour_ago, until),
        last_hour_last_week=channel_totals(engine, hour_ago - WEEK, until - WEEK),
    )


def channel_trend(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Complaints per 5-minute bucket and channel: columns bucket_start, channel, count."""
    c = ComplaintCount
    query = (
        select(c.bucket_start, c.channel, func.sum(c.count))
        .where(c.bucket_start >= since, c.bucket_start < until)
        .group_by(c.bucket_start, c.channel)
        .order_by(c.bucket_start, c.channel)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    frame = _frame(rows, ["bucket_start", "channel", "count"])
    frame["count"] = frame["count"].astype(int)
    return frame


def dimension_totals(
    engine: Engine, dimension: str, since: datetime, until: datetime, limit: int | None = None
) -> pd.DataFrame:
    """Complaints per value of one count dimension, largest first: columns value, count."""
    if dimension not in COUNT_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {COUNT_DIMENSIONS}")
    column = getattr(ComplaintCount, dimension)
    total = func.sum(ComplaintCount.count)
    query = (
        select(column, total)
        .where(ComplaintCount.bucket_start >= since, ComplaintCount.bucket_start < until)
        .group_by(column)
        .order_by(total.desc(), column)
    )
    if dimension in ("event_tag", "region"):  # "no tag" and "no region" are not a value
        query = query.where(column != "")
    if limit:
        query = query.limit(limit)
    with Session(engine) as session:
        rows = session.execute(query).all()
    frame = _frame(rows, ["value", "count"])
    frame["count"] = frame["count"].astype(int)
    return frame


def top_products(engine: Engine, since: datetime, until: datetime, limit: int = 10) -> pd.DataFrame:
    """Products with the most complaints: columns product_code, product_name, product_line, count."""
    with Session(engine) as session:
        # the window read detection uses: on SQLite it names the bucket-first index, where
        # SQLite's own choice walked the (product, bucket) index (0.31 against 0.10 s a week)
        counts = window_counts(session, ["product_code", "product_line"], since, until)
        ranked = sorted(((-n, code, line) for (code, line), n in counts.items() if code))
        rows = [(code, line, -negative) for negative, code, line in ranked[:limit]]
        codes = [r[0] for r in rows]
        names = dict(
            session.execute(
                select(Complaint.product_code, func.max(Complaint.product_name))
                .where(
                    Complaint.product_code.in_(codes),
                    # Bounded by the window so the lookup uses the (product, time) index
                    # instead of reading every complaint a product ever had.
                    Complaint.received_at >= since,
                    Complaint.received_at < until,
                )
                .group_by(Complaint.product_code)
            ).all()
        )
    return pd.DataFrame(
        [(code, names.get(code) or code, line, int(n)) for code, line, n in rows],
        columns=["product_code", "product_name", "product_line", "count"],
    )


ALERT_COLUMNS = [
    "id",
    "severity",
    "title",
    "state",
    "rule",
    "started_at",
    "fired_at",
    "last_seen_at",
    "acknowledged_at",
    "acknowledged_by",
    "assignee",
    "resolved_at",
    "count",
    "expected",
    "silenced",
    "key",
    "parent_alert_id",
    "rule_kind",
]
# the alert lists' columns: the alert's own, and what its title reads besides them (the
# details of its evidence, the name of the product its key names)
ALERT_ROW_COLUMNS = [*ALERT_COLUMNS, "details", "product_name"]


def product_names(session: Session, codes: Iterable[str], since: datetime) -> dict[str, str]:
    """Each product code's name on its newest complaint received since ``since`` that names
    it (a product renamed reads by its new name); codes without one are left out. One grouped
    statement for all codes, bounded by ``since`` so it reads the recent end of the (product,
    time) index: an alert's product has complaints since the alert's start."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    named = (
        Complaint.product_code.in_(wanted),
        Complaint.received_at >= since,
        Complaint.product_name != "",
    )
    newest = (
        select(Complaint.product_code.label("code"), func.max(Complaint.received_at).label("at"))
        .where(*named)
        .group_by(Complaint.product_code)
        .subquery()
    )
    query = (
        select(Complaint.product_code, func.max(Complaint.product_name))  # max: one of a tie
        .join(
            newest,
            (Complaint.product_code == newest.c.code) & (Complaint.received_at == newest.c.at),
        )
        .where(Complaint.product_name != "")
        .group_by(Complaint.product_code)
    )
    return {code: name for code, name in session.execute(query).all()}


def _product_code(alert: Alert) -> str:
    return str((alert.key or {}).get("product_code") or "")


def _alert_values(alert: Alert, names: dict[str, str]) -> dict[str, Any]:
    """An alert's columns, ``started_at`` being when its situation began (its first complaint
    counted, ``alerts.detect.findings.alert_start``): the one start every page and message shows.
    ``names`` maps product codes to names (``product_names``)."""
    values = {col: getattr(alert, col) for col in ALERT_COLUMNS}
    values["started_at"] = alert_start(alert.evidence, alert.started_at)
    values["details"] = title_details(alert.evidence)
    values["product_name"] = names.get(_product_code(alert), "")
    return values


def _names(session: Session, alerts: Sequence[Alert]) -> dict[str, str]:
    """The names of the products these alerts' keys name, read since the earliest one began."""
    starts = [alert_start(a.evidence, a.started_at) for a in alerts if _product_code(a)]
    return product_names(session, map(_product_code, alerts), min(starts)) if starts else {}


def _alert_rows(session: Session, alerts: Sequence[Alert]) -> pd.DataFrame:
    """The alerts as a list's rows, each with the name of its key's product."""
    names = _names(session, alerts)
    return pd.DataFrame([_alert_values(a, names) for a in alerts], columns=ALERT_ROW_COLUMNS)


def _no_alerts() -> pd.DataFrame:
    return pd.DataFrame([], columns=ALERT_ROW_COLUMNS)


def active_alerts(engine: Engine) -> pd.DataFrame:
    """Active alerts, most serious first, then oldest first."""
    query = (
        select(Alert)
        .where(Alert.state.in_([s.value for s in ACTIVE_ALERT_STATES]))
        .order_by(Alert.severity, Alert.started_at, Alert.id)
    )
    with Session(engine) as session:
        return _alert_rows(session, session.scalars(query).all())


def list_alerts(
    engine: Engine,
    since: datetime,
    states: Sequence[str] = (),
    severities: Sequence[int] = (),
    rules: Sequence[str] = (),
    limit: int = 500,
) -> pd.DataFrame:
    """Alerts started since ``since`` or still active, filtered; most serious and newest first."""
    active = [s.value for s in ACTIVE_ALERT_STATES]
    query = select(Alert).where((Alert.started_at >= since) | Alert.state.in_(active))
    if states:
        query = query.where(Alert.state.in_(list(states)))
    if severities:
        query = query.where(Alert.severity.in_(list(severities)))
    if rules:
        query = query.where(Alert.rule.in_(list(rules)))
    order = case((Alert.state.in_(active), 0), else_=1)
    query = query.order_by(order, Alert.severity, Alert.started_at.desc()).limit(limit)
    with Session(engine) as session:
        return _alert_rows(session, session.scalars(query).all())


def alert_rules(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Alert.rule).distinct().order_by(Alert.rule)))


@dataclass(frozen=True)
class AlertDetail:
    alert: dict[str, Any]
    events: pd.DataFrame


def alert_detail(engine: Engine, alert_id: int) -> AlertDetail | None:
    """One alert with its key and evidence, and its audit trail oldest first."""
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        data = _alert_values(alert, _names(session, [alert]))
        data.update(
            key=dict(alert.key or {}), evidence=dict(alert.evidence), rule_kind=alert.rule_kind
        )
        events = session.execute(
            select(
                AlertEvent.at,
                AlertEvent.kind,
                AlertEvent.from_state,
                AlertEvent.to_state,
                AlertEvent.actor,
                AlertEvent.message,
            )
            .where(AlertEvent.alert_id == alert_id)
            .order_by(AlertEvent.at, AlertEvent.id)
        ).all()
    return AlertDetail(
        alert=data,
        events=_frame(events, ["at", "kind", "from_state", "to_state", "actor", "message"]),
    )


def situation_alerts(engine: Engine, alert_id: int) -> pd.DataFrame:
    """Every alert of this alert's situation (``alerts.state.situations``): its lead first, then the
    alerts attached to the lead, oldest first. Empty when the alert stands alone."""
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return _no_alerts()
        lead = alert.parent_alert_id or alert.id
        query = (
            select(Alert)
            .where((Alert.id == lead) | (Alert.parent_alert_id == lead))
            .order_by(case((Alert.id == lead, 0), else_=1), Alert.id)
        )
        rows = session.scalars(query).all()
        return _alert_rows(session, rows if len(rows) > 1 else [])


def complaints_by_ids(engine: Engine, ids: Sequence[int], limit: int = 20) -> pd.DataFrame:
    """Stored (already masked) complaints, newest first: the samples behind an alert."""
    columns = ["id", "received_at", "channel", "product_name", "region", "category", "text"]
    if not ids:
        return pd.DataFrame(columns=columns)
    query = (
        select(*(getattr(Complaint, c) for c in columns))
        .where(Complaint.id.in_(list(ids)[:5000]))
        .order_by(Complaint.received_at.desc(), Complaint.id.desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return _frame(session.execute(query).all(), columns)


def complaint_breakdown(engine: Engine, ids: Sequence[int], dimension: str) -> pd.DataFrame:
    """How the complaints behind an alert spread over regions or channels: columns value, count."""
    if dimension not in COUNT_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if not ids:
        return pd.DataFrame(columns=["value", "count"])
    column = getattr(Complaint, dimension)
    query = (
        select(column, func.count())
        .where(Complaint.id.in_(list(ids)[:5000]))
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    with Session(engine) as session:
        return _frame(session.execute(query).all(), ["value", "count"])


def key_trend(
    engine: Engine,
    key: dict[str, str],
    since: datetime,
    until: datetime,
    filters: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Counts per bucket for an alert's key (its dimensions that counts keep) and its rule's
    ``filters`` (a sales-only rule's chart counts sales complaints): bucket_start, count."""
    c = ComplaintCount
    query = (
        select(c.bucket_start, func.sum(c.count))
        .where(c.bucket_start >= since, c.bucket_start < until)
        .group_by(c.bucket_start)
        .order_by(c.bucket_start)
    )
    for dimension, value in key.items():
        if dimension in COUNT_DIMENSIONS:
            query = query.where(getattr(c, dimension) == value)
    for dimension, values in (filters or {}).items():
        if dimension in COUNT_DIMENSIONS:
            query = query.where(getattr(c, dimension).in_(list(values)))
    with Session(engine) as session:
        frame = _frame(session.execute(query).all(), ["bucket_start", "count"])
    frame["count"] = frame["count"].astype(int)
    return frame


def complaints_trend(engine: Engine, ids: tuple[int, ...]) -> pd.DataFrame:
    """The given complaints per 5-minute bucket (bucket_start, count): the chart of an alert
    whose key is no count dimension (a copied text's cluster counts its own complaints)."""
    if not ids:
        return pd.DataFrame({"bucket_start": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "count": pd.Series([], dtype=int)})  # fmt: skip
    with Session(engine) as session:
        moments = session.scalars(
            select(Complaint.received_at).where(Complaint.id.in_(list(ids)))
        ).all()
    times = pd.to_datetime(pd.Series(moments), utc=True).dt.floor(pd.Timedelta(BUCKET))
    counts = times.value_counts().sort_index()
    return pd.DataFrame({"bucket_start": counts.index, "count": counts.to_numpy(dtype=int)})


SOURCE_COLUMNS = [
    "name",
    "kind",
    "last_run_at",
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "records_last_run",
    "quarantined_last_run",
    "total_records",
    "last_received_at",
    "note",
]


def source_states(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        states = session.scalars(select(SourceState).order_by(SourceState.name)).all()
        return pd.DataFrame(
            [[getattr(s, c) for c in SOURCE_COLUMNS] for s in states], columns=SOURCE_COLUMNS
        )


def worker_heartbeats(engine: Engine) -> pd.DataFrame:
    columns = ["name", "host", "pid", "started_at", "beat_at"]
    with Session(engine) as session:
        rows = session.execute(
            select(*(getattr(WorkerHeartbeat, c) for c in columns)).order_by(
                WorkerHeartbeat.beat_at.desc()
            )
        ).all()
    return _frame(rows, columns)


def quarantined(engine: Engine, source: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Newest quarantined records with their reasons."""
    columns = ["id", "source", "external_id", "reason", "payload", "quarantined_at"]
    query = select(*(getattr(QuarantinedRecord, c) for c in columns))
    if source:
        query = query.where(QuarantinedRecord.source == source)
    query = query.order_by(QuarantinedRecord.quarantined_at.desc(), QuarantinedRecord.id.desc())
    with Session(engine) as session:
        return _frame(session.execute(query.limit(limit)).all(), columns)


def source_throughput(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Complaints per source per 5-minute bucket of event time: bucket_start, source, count."""
    c = ComplaintCount
    query = (
        select(c.bucket_start, c.source, func.sum(c.count))
        .where(c.bucket_start >= since, c.bucket_start < until)
        .group_by(c.bucket_start, c.source)
        .order_by(c.bucket_start, c.source)
    )
    with Session(engine) as session:
        frame = _frame(session.execute(query).all(), ["bucket_start", "source", "count"])
    frame["count"] = frame["count"].astype(int)
    return frame


LEDGER_COLUMNS = [
    "id",
    "source",
    "external_id",
    "received_at",
    "channel",
    "product_name",
    "product_line",
    "region",
    "branch",
    "category",
    "status",
    "is_complex",
    "extension_level",
    "decided_at",
    "closed_at",
    "text",
]


def ledger(
    engine: Engine,
    since: datetime,
    until: datetime,
    statuses: Sequence[str] = (),
    branches: Sequence[str] = (),
    limit: int = 2000,
) -> pd.DataFrame:
    """Complaints received in [since, until): undecided first, oldest first (the first to fall
    due), at most ``limit`` rows (``ledger_receipts`` counts them all)."""
    query = select(*(getattr(Complaint, c) for c in LEDGER_COLUMNS)).where(
        Complaint.received_at >= since, Complaint.received_at < until
    )
    if statuses:
        query = query.where(Complaint.status.in_(list(statuses)))
    if branches:
        query = query.where(Complaint.branch.in_(list(branches)))
    decided = Complaint.decided_at.is_not(None)
    query = query.order_by(decided, Complaint.received_at, Complaint.id).limit(limit)
    with Session(engine) as session:
        return _frame(session.execute(query).all(), LEDGER_COLUMNS)


RECEIPT_COLUMNS = ["day", "extension_level", "is_complex", "decided", "count"]


def ledger_receipts(
    engine: Engine,
    since: datetime,
    until: datetime,
    statuses: Sequence[str] = (),
    branches: Sequence[str] = (),
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Every complaint in [since, until) counted per local receipt day, extension level,
    complexity and whether it is decided: a deadline depends on nothing else, so the ledger's
    overdue and due-soon figures cover all complaints, not only the rows its table shows."""
    day = local_day(engine, timezone)
    decided = Complaint.decided_at.is_not(None)
    keys = (day, Complaint.extension_level, Complaint.is_complex, decided)
    query = select(*keys, func.count()).where(
        Complaint.received_at >= since, Complaint.received_at < until
    )
    if statuses:
        query = query.where(Complaint.status.in_(list(statuses)))
    if branches:
        query = query.where(Complaint.branch.in_(list(branches)))
    with Session(engine) as session:
        rows = session.execute(query.group_by(*keys)).all()
    frame = _frame(rows, RECEIPT_COLUMNS)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def local_day(engine: Engine, timezone: str) -> Any:
    """The local receipt day of a complaint as a SQL expression (grouping by deadline day)."""
    return dialect_of(engine).local_day(Complaint.received_at, timezone)


def latest_receipt_day(engine: Engine, timezone: str = DEFAULT_TIMEZONE) -> date | None:
    """The local day of the newest complaint: reports open on the period holding it."""
    with Session(engine) as session:
        newest = session.scalar(select(func.max(Complaint.received_at)))
    return None if newest is None else newest.astimezone(ZoneInfo(timezone)).date()


def distinct_values(engine: Engine, column: str) -> list[str]:
    """The non-empty values of an indexed complaints column, sorted, one index seek each (a
    loose index scan): a DISTINCT read every complaint, 2–6 s on a national insurer's history,
    for a few dozen values."""
    if column not in ("branch", "status"):  # the indexed ones (migration 0018)
        raise ValueError(f"no index to list {column!r} from")
    query = text(
        f"""WITH RECURSIVE found(value) AS (
            SELECT MIN({column}) FROM complaints WHERE {column} > ''
            UNION ALL
            SELECT (SELECT MIN({column}) FROM complaints WHERE {column} > found.value)
            FROM found WHERE found.value IS NOT NULL
        ) SELECT value FROM found WHERE value IS NOT NULL"""
    )
    with Session(engine) as session:
        return sorted(session.scalars(query))


def complaint_branches(engine: Engine) -> list[str]:
    """The branches named by stored complaints (a few dozen), for the ledger's filter."""
    return distinct_values(engine, "branch")


def complaint_statuses(engine: Engine) -> list[str]:
    return distinct_values(engine, "status")


@dataclass(frozen=True)
class RepeatStats:
    total: int
    repeat: int
    multichannel: int


def repeat_stats(engine: Engine, since: datetime, until: datetime) -> RepeatStats:
    """Stored complaints in the span, and how many were repeats or came through several channels."""
    query = select(
        func.count(),
        func.coalesce(func.sum(case((Complaint.is_repeat, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Complaint.is_multichannel, 1), else_=0)), 0),
    ).where(Complaint.received_at >= since, Complaint.received_at < until)
    with Session(engine) as session:
        total, repeat, multi = session.execute(query).one()
    return RepeatStats(int(total), int(repeat), int(multi))


@dataclass(frozen=True)
class AlertStats:
    raised: int
    by_severity: dict[int, int]
    acknowledged: int
    median_ack_minutes: float | None


def alert_stats(engine: Engine, since: datetime, until: datetime) -> AlertStats:
    """Alerts that fired in the span and how long people took to acknowledge them."""
    query = select(Alert.severity, Alert.fired_at, Alert.started_at, Alert.acknowledged_at).where(
        Alert.started_at >= since, Alert.started_at < until, Alert.fired_at.is_not(None)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    by_severity: dict[int, int] = {}
    waits = []
    for severity, fired_at, _started, acked_at in rows:
        by_severity[severity] = by_severity.get(severity, 0) + 1
        if acked_at is not None:
            assert fired_at is not None  # the query keeps fired alerts only
            waits.append(max(0.0, (acked_at - fired_at).total_seconds() / 60))
    median = float(pd.Series(waits).median()) if waits else None
    return AlertStats(len(rows), dict(sorted(by_severity.items())), len(waits), median)


SILENCE_COLUMNS = ["id", "matchers", "starts_at", "ends_at", "created_by", "comment", "status"]


def silences(engine: Engine, now: datetime, ended_within: timedelta = WEEK) -> pd.DataFrame:
    """Silences active or to come, then those ended in the last week: newest first."""
    query = (
        select(Silence)
        .where(Silence.ends_at > now - ended_within)
        .order_by(Silence.ends_at <= now, Silence.starts_at.desc())
    )
    with Session(engine) as session:
        rows = [
            [
                s.id, dict(s.matchers), s.starts_at, s.ends_at, s.created_by, s.comment,
                "ended" if s.ends_at <= now else "active" if s.starts_at <= now else "pending",
            ]
            for s in session.scalars(query)
        ]  # fmt: skip
    return pd.DataFrame(rows, columns=SILENCE_COLUMNS)


def silence_preview(engine: Engine, matchers: dict[str, Sequence[str]]) -> pd.DataFrame:
    """The active alerts a silence with these matchers would catch, before it is made."""
    wanted = {k: list(v) for k, v in matchers.items() if v}
    if not wanted:
        return _no_alerts()
    active = [s.value for s in ACTIVE_ALERT_STATES]
    with Session(engine) as session:
        alerts = session.scalars(select(Alert).where(Alert.state.in_(active))).all()
        return _alert_rows(session, [a for a in alerts if catches(wanted, a)])


def silenced_until(
    engine: Engine, alert_id: int, now: datetime
) -> tuple[datetime, str, str] | None:
    """(end, author, reason) of the active silence that catches this alert longest, or None."""
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        caught = [s for s in active_silences(session, now) if catches(s.matchers, alert)]
        last = max(caught, key=lambda s: s.ends_at, default=None)
        return None if last is None else (last.ends_at, last.created_by, last.comment)


def alert_labels_in_use(engine: Engine, since: datetime) -> dict[str, list[str]]:
    """The values each silence label takes on alerts since ``since``: the choices offered."""
    with Session(engine) as session:
        alerts = session.scalars(
            select(Alert).where(Alert.started_at >= since).order_by(Alert.id.desc()).limit(500)
        ).all()
        values: dict[str, set[str]] = {}
        for alert in alerts:
            for name, value in alert_labels(alert).items():
                values.setdefault(name, set()).add(value)
    return {name: sorted(v) for name, v in values.items()}
