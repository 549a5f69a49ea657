"""The one writer of ``Alert.state`` and of the audit trail (``AlertEvent``).

``transition`` moves an alert to another state and writes the event that says so. ``record``
writes an event about the alert in the state it is in (its count grew, it joined a situation).
``record_note`` writes an event without a state (a person's note, a page sent or held back).
``tests/alerts/test_transition.py`` fails on any other module that sets ``Alert.state`` or
builds an ``AlertEvent``.

The lifecycle writes through its ``AlertStore`` (``alerts.state.lifecycle``), so the backtest
keeps its events in memory; everything else writes to a database session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.states import AlertState, EventKind
from storage.models import Alert, AlertEvent


@dataclass(frozen=True)
class Transition:
    kind: str
    from_state: str
    to_state: str
    message: str = ""
    actor: str = "system"


class Journal(Protocol):
    """Where the lifecycle's events go (an ``AlertStore``)."""

    def record(self, alert: Alert, transition: Transition, now: datetime) -> None: ...


def transition(
    target: Session | Journal,
    alert: Alert,
    to: AlertState,
    kind: EventKind,
    actor: str,
    message: str,
    at: datetime,
) -> Transition:
    """Set the alert's state to ``to`` and write the event; a new alert comes from ""."""
    change = Transition(str(kind), alert.state or "", str(to), message, actor)
    alert.state = str(to)
    _write(target, alert, change, at)
    return change


def record(
    target: Session | Journal, alert: Alert, kind: EventKind, actor: str, message: str, at: datetime
) -> Transition:
    """An event in the alert's current state."""
    change = Transition(str(kind), alert.state, alert.state, message, actor)
    _write(target, alert, change, at)
    return change


def record_note(
    session: Session,
    alert_id: int,
    kind: EventKind,
    message: str,
    at: datetime,
    actor: str = "system",
    once: bool = False,
) -> None:
    """An event without a state. ``once``: not when the alert already has this very note."""
    if (
        once
        and session.scalar(
            select(AlertEvent.id)
            .where(AlertEvent.alert_id == alert_id, AlertEvent.kind == str(kind))
            .where(AlertEvent.message == message)
            .limit(1)
        )
        is not None
    ):
        return
    session.add(AlertEvent(alert_id=alert_id, at=at, kind=str(kind), actor=actor, message=message))


def write(session: Session, alert: Alert, change: Transition, at: datetime) -> None:
    """``change`` as an AlertEvent row; an alert new in this transaction gets its id first."""
    if alert.id is None:
        session.flush()
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=at,
            kind=change.kind,
            from_state=change.from_state,
            to_state=change.to_state,
            actor=change.actor,
            message=change.message,
        )
    )


def _write(target: Session | Journal, alert: Alert, change: Transition, at: datetime) -> None:
    if isinstance(target, Session):
        write(target, alert, change, at)
    else:
        target.record(alert, change, at)
